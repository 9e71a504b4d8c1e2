import { z } from 'zod';

// Lenient on purpose: the dev server should accept what real clients send (extra fields, content
// parts, legacy `functions`), and only refuse what it cannot answer, with OpenAI's 400 shape.

const ContentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();

export const WireMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
    content: z.union([z.string(), z.array(ContentPart)]).nullish(),
    name: z.string().optional(),
    tool_call_id: z.string().optional(),
    tool_calls: z.array(z.object({ id: z.string(), type: z.string().optional(), function: z.object({ name: z.string(), arguments: z.string() }) })).optional(),
  })
  .passthrough();
export type WireMessage = z.infer<typeof WireMessage>;

export const WireTool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type WireTool = z.infer<typeof WireTool>;

export const ChatCompletionRequest = z
  .object({
    model: z.string().min(1),
    messages: z.array(WireMessage).min(1),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    tools: z.array(WireTool).nullish(),
    tool_choice: z.unknown().optional(),
    temperature: z.number().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
  })
  .passthrough();
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const EmbeddingsRequest = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(8).max(4096).optional(),
});
export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequest>;

export const ControlRequest = z.object({
  /** Fail the next `count` chat/embedding requests with `status` (e.g. 429 once, then succeed). */
  failNext: z.object({ status: z.number().int().min(400).max(599), count: z.number().int().min(1).default(1), message: z.string().optional() }).optional(),
  tokenDelayMs: z.number().int().min(0).max(60_000).optional(),
  /** Every chat request hangs until set back to false. */
  hang: z.boolean().optional(),
  /** Sent as `retry-after-ms` on scripted errors, so client retries in tests take milliseconds. null clears. */
  retryAfterMs: z.number().int().min(1).max(600_000).nullable().optional(),
  /** Clears counters, failures and overrides (the token delay goes back to the start value). */
  reset: z.boolean().optional(),
});
export type ControlRequest = z.infer<typeof ControlRequest>;

/** Text of a message, content parts joined. */
export function messageText(m: WireMessage): string {
  if (typeof m.content === 'string') return m.content;
  if (!m.content) return '';
  return m.content.map((p) => p.text ?? '').join('');
}
