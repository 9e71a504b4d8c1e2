/**
 * @parley/llm — the model client (openai SDK) and THE token counter. The offline dev model server is
 * at `@parley/llm/dev-server` (dev and tests only).
 */
export { countTokens, countMessageTokens, countChatTokens, encodingForModel, type EncodingName } from './tokens.js';
export { createModelClient, type ModelClient } from './client.js';
export { ModelError, type ModelErrorCode } from './errors.js';
export type { ChatMessage, ChatRequest, ChatResult, FinishReason, ModelConfig, StreamChunk, ToolCall, ToolSpec, Usage } from './types.js';
export { createModelMetrics, type ModelCallEnd, type ModelObserver, type ModelOperation } from './metrics.js';
