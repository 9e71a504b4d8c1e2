import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { countChatTokens, countTokens, type ChatMessage } from '../tokens.js';
import type { Plan } from './rules.js';
import { messageText, type ChatCompletionRequest } from './schemas.js';
import { splitDeltas } from './text.js';

const FINGERPRINT = 'fp_parley_dev';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function completionId(): string {
  return `chatcmpl-${randomBytes(15).toString('base64url')}`;
}

/** Usage counted with the same tokenizer the platform uses, so tests can compare exactly. */
export function usageOf(request: ChatCompletionRequest, plan: Plan): Usage {
  const messages: ChatMessage[] = request.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role === 'function' ? 'tool' : m.role,
    content: messageText(m),
    ...(m.tool_calls ? { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) } : {}),
    ...(m.tool_call_id ? { toolCallId: m.tool_call_id } : {}),
  }));
  const toolsTokens = request.tools?.length ? countTokens(JSON.stringify(request.tools), request.model) : 0;
  const prompt = countChatTokens(messages, request.model) + toolsTokens;
  const completion =
    plan.script.kind === 'text'
      ? countTokens(plan.script.text, request.model)
      : plan.script.calls.reduce((n, c) => n + 3 + countTokens(c.name, request.model) + countTokens(c.arguments, request.model), 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function completionBody(id: string, request: ChatCompletionRequest, plan: Plan): Record<string, unknown> {
  const script = plan.script;
  const message =
    script.kind === 'text'
      ? { role: 'assistant', content: script.text, refusal: null, annotations: [] }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          annotations: [],
          tool_calls: script.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        };
  return {
    id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: script.kind === 'text' ? 'stop' : 'tool_calls' }],
    usage: usageOf(request, plan),
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
  };
}

/**
 * The chunk payloads of a streamed reply, in OpenAI's order: role, content or tool-call fragments,
 * finish; then `usage`, the trailing usage chunk when the client asked for one. It is a function
 * because counting the prompt's tokens takes time a real server spends after the first token
 * (its prefill is done by then), so it runs once the reply is on the wire.
 */
export function streamChunks(
  id: string,
  request: ChatCompletionRequest,
  plan: Plan,
): { chunks: Record<string, unknown>[]; usage: (() => Record<string, unknown>) | null } {
  const created = Math.floor(Date.now() / 1000);
  const withUsage = request.stream_options?.include_usage === true;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: request.model,
    service_tier: 'default',
    system_fingerprint: FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  });
  const out: Record<string, unknown>[] = [];
  const script = plan.script;
  if (script.kind === 'text') {
    out.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of splitDeltas(script.text)) out.push(chunk({ content: piece }));
    out.push(chunk({}, 'stop'));
  } else {
    script.calls.forEach((call, index) => {
      const head = { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
      out.push(chunk(index === 0 ? { role: 'assistant', content: null, tool_calls: [head], refusal: null } : { tool_calls: [head] }));
      // Argument text arrives in small fragments, as real models emit it token by token.
      for (const fragment of call.arguments.match(/[\s\S]{1,8}/g) ?? []) {
        out.push(chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }));
      }
    });
    out.push(chunk({}, 'tool_calls'));
  }
  const usage = withUsage
    ? () => ({
        id,
        object: 'chat.completion.chunk',
        created,
        model: request.model,
        service_tier: 'default',
        system_fingerprint: FINGERPRINT,
        choices: [],
        usage: usageOf(request, plan),
      })
    : null;
  return { chunks: out, usage };
}

const sse = (payload: Record<string, unknown>): string => `data: ${JSON.stringify(payload)}\n\n`;

export interface StreamOptions {
  delayMs: number;
  malformed: boolean;
  stall: boolean;
  drop: boolean;
  streamError: boolean;
}

/**
 * Writes the SSE reply; resolves when it ended or the client went away, with the moment
 * (performance.now()) its first token was written — the model's own time to first token, which a
 * benchmark subtracts from what the platform's client saw.
 */
export async function writeStream(res: ServerResponse, reply: ReturnType<typeof streamChunks>, options: StreamOptions): Promise<number | undefined> {
  const { chunks, usage } = reply;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  if (options.malformed || options.stall || options.drop || options.streamError) {
    // A couple of good chunks first, so the client has started consuming when things go wrong.
    res.write(chunks.slice(0, 3).map(sse).join(''));
    const at = performance.now();
    if (options.malformed) {
      res.end('data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"tru\n\n');
      return at;
    }
    if (options.streamError) {
      res.end(sse({ error: { message: 'the model failed mid-reply (dev model [[stream_error]])', type: 'server_error', code: null } }));
      return at;
    }
    if (options.drop) {
      // The good chunks are on the wire; then the connection goes away without the end of the body.
      setImmediate(() => res.destroy());
      return at;
    }
    await new Promise<void>((resolve) => res.once('close', resolve));
    return at;
  }
  if (options.delayMs === 0) {
    // Zero delay is the benchmark's setting: the answer in one write, no timers; the usage once it has
    // left (a response's writes are corked until the current tick ends, so counting first would hold it).
    const at = await new Promise<number>((resolve) => res.write(chunks.map(sse).join(''), () => resolve(performance.now())));
    res.end((usage ? sse(usage()) : '') + 'data: [DONE]\n\n');
    return at;
  }
  let first: number | undefined;
  for (const [i, payload] of chunks.entries()) {
    if (res.destroyed) return first;
    // The role chunk and the finish chunk are not tokens; only content pays the delay.
    if (i > 0 && i < chunks.length - 1) await sleep(options.delayMs);
    res.write(sse(payload));
    if (i > 0) first ??= performance.now();
  }
  if (!res.destroyed) res.end((usage ? sse(usage()) : '') + 'data: [DONE]\n\n');
  return first;
}
