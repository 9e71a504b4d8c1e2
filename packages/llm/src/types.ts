import type { ToolCall, Usage } from '@parley/contracts';
import type { ModelObserver } from './metrics.js';
import type { ChatMessage } from './tokens.js';

export type { ChatMessage } from './tokens.js';
export type { ToolCall, Usage } from '@parley/contracts';

export interface ModelConfig {
  /** e.g. https://api.openai.com/v1, https://openrouter.ai/api/v1, http://127.0.0.1:11434/v1 (Ollama). */
  baseURL: string;
  /** Sent as a Bearer token; local servers accept any non-empty value. */
  apiKey: string;
  model: string;
  /** Deadline of one call, all retries and the whole stream included. */
  timeoutMs: number;
  /** Retries after the first attempt on 408/409/429/5xx and connection errors. */
  maxRetries: number;
  /** Model used by `embed`; defaults to `model`. */
  embeddingModel?: string;
  /** Texts per embeddings request. */
  embedBatchSize?: number;
  /** The SDK's own logging (retries, unparsable chunks); 'off' in tests. */
  logLevel?: 'off' | 'error' | 'warn' | 'info' | 'debug';
  /** Told of every call that ended (not cancelled ones): `createModelMetrics(registry)` turns it into Prometheus series. */
  observer?: ModelObserver;
}

/** A function the model may call; `parameters` is its JSON schema. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ChatRequest {
  messages: readonly ChatMessage[];
  tools?: readonly ToolSpec[];
  temperature?: number;
  maxTokens?: number;
  /** Aborting it cancels the call at once (ModelError 'cancelled'). */
  signal?: AbortSignal;
  /** Overrides the config's timeoutMs for this call. */
  timeoutMs?: number;
  /** Overrides the config's model for this call (an agent may name its own). */
  model?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | 'unknown';

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** null only when a provider sends no usage at all (some local servers). */
  usage: Usage | null;
  model: string;
}

export type StreamChunk =
  { type: 'token'; delta: string } | { type: 'tool_call'; id: string; name: string; arguments: string } | ({ type: 'done' } & ChatResult);
