/**
 * @parley/llm — the model client (openai SDK) and THE token counter. The offline dev model server is
 * at `@parley/llm/dev-server` (dev and tests only).
 */
export { countTokens, countMessageTokens, countChatTokens, encodingForModel, type EncodingName } from './tokens.js';
export { createModelClient, type ModelClient } from './client.js';
export { ModelError, type ModelErrorCode } from './errors.js';
export type { ChatMessage, ChatRequest, ChatResult, FinishReason, ModelConfig, StreamChunk, ToolCall, ToolSpec, Usage } from './types.js';
/**
 * @deprecated Transitional, until apps/agent-execution imports the dev model from `@parley/llm/dev-server`
 * (src/main.ts, src/testing/harness.ts); then these lines go and the production export holds no dev server.
 */
export { startDevModelServer, type DevModelServer, type DevModelServerOptions } from './dev-server/index.js';
