import OpenAI from 'openai';
import { CallScope } from './call-scope.js';
import { abortError, ModelError, toModelError } from './errors.js';
import { createHttpFetch } from './http-fetch.js';
import type { ModelOperation } from './metrics.js';
import { sseChunks } from './sse-chunks.js';
import { StreamAssembler } from './stream-assembler.js';
import { endModelSpan, startModelSpan } from './tracing.js';
import type { ChatRequest, ChatResult, ModelConfig, StreamChunk, ToolCall, Usage } from './types.js';
import { toFinishReason, toUsage, toWireMessages, toWireTools, WireChunk, WireCompletion, WireEmbeddings } from './wire.js';

export interface ModelClient {
  readonly model: string;
  /** One completion, non-streaming. Throws ModelError. */
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Tokens as they come, whole tool calls, then one `done`. Throws ModelError from the iterator. */
  streamChat(request: ChatRequest): AsyncGenerator<StreamChunk, void, undefined>;
  /** One vector per text, in order; sent in batches of `embedBatchSize`. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<number[][]>;
}

const DEFAULT_EMBED_BATCH = 64;

export function createModelClient(config: ModelConfig): ModelClient {
  // The SDK does the retrying: exponential backoff from 0.5 s to 8 s with up to 25 % jitter,
  // Retry-After / retry-after-ms honoured, 408/409/429/5xx and connection errors retried (README).
  const sdk = new OpenAI({
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    maxRetries: config.maxRetries,
    timeout: config.timeoutMs,
    logLevel: config.logLevel ?? 'warn',
    // node:http under the SDK instead of the global fetch: less time and CPU to the first token (README).
    fetch: createHttpFetch(),
  });

  function body(request: ChatRequest) {
    return {
      model: request.model ?? config.model,
      messages: toWireMessages(request.messages),
      ...(request.tools && request.tools.length > 0 ? { tools: toWireTools(request.tools) } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    };
  }

  /** Tells the observer of a call that ended; a cancelled one is the caller's doing, not the model's. */
  function observe(model: string, operation: ModelOperation, started: number, usage: Usage | null, error: ModelError | null): void {
    if (!config.observer || error?.code === 'cancelled') return;
    config.observer.ended({ model, operation, seconds: (performance.now() - started) / 1000, usage, error });
  }

  async function chat(request: ChatRequest): Promise<ChatResult> {
    const timeoutMs = request.timeoutMs ?? config.timeoutMs;
    const scope = new CallScope(timeoutMs, request.signal);
    const started = performance.now();
    const model = request.model ?? config.model;
    const span = startModelSpan('chat', model, config.baseURL, request);
    let result: ChatResult | null = null;
    let failure: ModelError | undefined;
    try {
      const raw: unknown = await scope.race(sdk.chat.completions.create({ ...body(request), stream: false }, { signal: scope.signal, timeout: timeoutMs }));
      const parsed = WireCompletion.safeParse(raw);
      if (!parsed.success)
        throw new ModelError('model_error', `the model server sent an unexpected completion: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
          retryable: true,
        });
      const choice = parsed.data.choices[0];
      const toolCalls: ToolCall[] = [];
      for (const c of choice?.message.tool_calls ?? []) {
        if (c.function) toolCalls.push({ id: c.id, name: c.function.name, arguments: c.function.arguments });
      }
      const usage = toUsage(parsed.data.usage);
      observe(model, 'chat', started, usage, null);
      result = {
        text: choice?.message.content ?? '',
        toolCalls,
        finishReason: toFinishReason(choice?.finish_reason),
        usage,
        model: parsed.data.model ?? model,
      };
      return result;
    } catch (err) {
      failure = toModelError(err, scope.reason, timeoutMs);
      observe(model, 'chat', started, null, failure);
      throw failure;
    } finally {
      scope.dispose();
      endModelSpan(span, result, failure);
    }
  }

  async function* streamChat(request: ChatRequest): AsyncGenerator<StreamChunk, void, undefined> {
    const timeoutMs = request.timeoutMs ?? config.timeoutMs;
    const scope = new CallScope(timeoutMs, request.signal);
    const model = request.model ?? config.model;
    const assembler = new StreamAssembler(model);
    const started = performance.now();
    const span = startModelSpan('chat', model, config.baseURL, request);
    let last: ChatResult | null = null;
    let failure: ModelError | undefined;
    let response: Response | undefined;
    let drained = false;
    try {
      response = await scope.race(
        sdk.chat.completions
          .create({ ...body(request), stream: true, stream_options: { include_usage: true } }, { signal: scope.signal, timeout: timeoutMs })
          .asResponse(),
      );
      if (!response.body) throw new ModelError('model_error', 'the model server answered the stream without a body', { retryable: true });
      // Racing each read keeps cancel prompt even if a transport ignored the signal mid-stream
      // (http-fetch does not, but dropping the race saved nothing measurable).
      for await (const chunk of sseChunks(response.body, response.headers, (p) => scope.race(p))) {
        const parsed = WireChunk.safeParse(chunk);
        if (!parsed.success) {
          throw new ModelError('model_error', `the model server sent a malformed stream chunk: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
            retryable: true,
          });
        }
        yield* assembler.push(parsed.data);
      }
      drained = true;
      // A body that ends once our signal aborted is a cancel, not a reply.
      if (scope.reason) throw abortError(scope.reason, timeoutMs);
      for (const chunk of assembler.finish()) {
        // Observed before the last yield: a consumer may stop reading right after `done`.
        if (chunk.type === 'done') {
          last = chunk;
          observe(model, 'stream', started, chunk.usage, null);
        }
        yield chunk;
      }
    } catch (err) {
      failure = toModelError(err, scope.reason, timeoutMs);
      observe(model, 'stream', started, null, failure);
      throw failure;
    } finally {
      endModelSpan(span, last, failure);
      // Runs also when the consumer stops early (break/return) or a chunk was bad: the HTTP stream must
      // not leak. A drained stream has nothing left to close, and aborting it anyway cost two
      // DOMExceptions and an event dispatch per call (measured).
      if (!drained) {
        if (!scope.reason) scope.controller.abort();
        void response?.body?.cancel().catch(() => {
          /* the stream is abandoned; closing it is best effort */
        });
      }
      scope.dispose();
    }
  }

  async function embed(texts: readonly string[], options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<number[][]> {
    const timeoutMs = options.timeoutMs ?? config.timeoutMs;
    const batchSize = config.embedBatchSize ?? DEFAULT_EMBED_BATCH;
    const scope = new CallScope(timeoutMs, options.signal);
    const model = config.embeddingModel ?? config.model;
    const started = performance.now();
    const span = startModelSpan('embeddings', model, config.baseURL);
    let promptTokens = 0;
    let failure: ModelError | undefined;
    const out: number[][] = [];
    try {
      for (let i = 0; i < texts.length; i += batchSize) {
        const batch = texts.slice(i, i + batchSize);
        // encoding_format 'float' on purpose: the SDK's base64 default breaks on servers (Ollama) that ignore it.
        const raw: unknown = await scope.race(
          sdk.embeddings.create({ model, input: batch, encoding_format: 'float' }, { signal: scope.signal, timeout: timeoutMs }),
        );
        const parsed = WireEmbeddings.safeParse(raw);
        if (!parsed.success || parsed.data.data.length !== batch.length) {
          throw new ModelError(
            'model_error',
            `the model server sent ${parsed.success ? parsed.data.data.length : 'invalid'} embeddings for ${batch.length} texts`,
            { retryable: true },
          );
        }
        promptTokens += parsed.data.usage?.prompt_tokens ?? 0;
        const ordered = [...parsed.data.data].sort((a, b) => a.index - b.index);
        for (const item of ordered) out.push(item.embedding);
      }
      observe(model, 'embed', started, { promptTokens, completionTokens: 0, totalTokens: promptTokens }, null);
      return out;
    } catch (err) {
      failure = toModelError(err, scope.reason, timeoutMs);
      observe(model, 'embed', started, null, failure);
      throw failure;
    } finally {
      scope.dispose();
      endModelSpan(span, null, failure);
    }
  }

  return { model: config.model, chat, streamChat, embed };
}
