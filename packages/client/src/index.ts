/**
 * @parley/client — the typed WebSocket client of Parley's chat protocol, for browsers and Node.
 * Used by the web UI, the tests and the load tool.
 */
export { ParleyClient, type ParleyClientOptions, type Welcome, type History } from './client.js';
export { ClientClosedError, ClientOfflineError, DeliveredToPersonError, RequestTimeoutError, ServerError, type ErrorFrame } from './errors.js';
export { RunStream, RunFailedError, type RunFrame, type AgentMessage, type AgentError } from './run-stream.js';
export type { WebSocketCtor, MinimalWebSocket } from './transport.js';
