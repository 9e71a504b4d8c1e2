/**
 * @parley/llm — the model client (openai SDK), THE token counter, and the offline dev model server.
 * Services use `createModelClient` and `countTokens`; tests and the launcher use `startDevModelServer`.
 */
export { countTokens, countMessageTokens, countChatTokens, encodingForModel, type EncodingName } from './tokens.js';
export { createModelClient, type ModelClient } from './client.js';
export { ModelError, type ModelErrorCode } from './errors.js';
export type { ChatMessage, ChatRequest, ChatResult, FinishReason, ModelConfig, StreamChunk, ToolCall, ToolSpec, Usage } from './types.js';
export { startDevModelServer, type DevModelServer, type DevModelServerOptions } from './dev-server/server.js';
export { DevModelControl } from './dev-server/control.js';
export { embedText, cosine } from './dev-server/embeddings.js';
