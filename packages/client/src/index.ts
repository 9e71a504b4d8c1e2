/**
 * @parley/client — the typed WebSocket client of Parley's chat protocol, for browsers and Node.
 * Used by the web UI, the tests and the load tool.
 */
export { ParleyClient, ClientClosedError, ServerError, type ParleyClientOptions, type Welcome, type History, type ErrorFrame } from './client.js';
export { RunStream, RunFailedError, type RunFrame, type AgentMessage, type AgentError } from './run-stream.js';
export type { WebSocketCtor, MinimalWebSocket } from './transport.js';
