import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelClient, type ModelClient } from './client.js';
import { cosine } from './dev-server/embeddings.js';
import { startDevModelServer, type DevModelServer } from './dev-server/server.js';
import { countChatTokens, countTokens, type ChatMessage } from './tokens.js';
import type { StreamChunk, ToolSpec } from './types.js';

const TOOLS: ToolSpec[] = [
  { name: 'current_time', description: 'Returns the current time', parameters: { type: 'object', properties: { timezone: { type: 'string' } } } },
  {
    name: 'search_knowledge',
    description: 'Searches the knowledge base',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
];

let server: DevModelServer;
let client: ModelClient;

beforeAll(async () => {
  server = await startDevModelServer({ tokenDelayMs: 0 });
  client = createModelClient({ baseURL: server.url, apiKey: 'dev', model: 'gpt-4o', timeoutMs: 5_000, maxRetries: 2, logLevel: 'off' });
});
afterAll(() => server.close());
beforeEach(() => server.control.reset());

async function collect(stream: AsyncIterable<StreamChunk>): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('model client against the dev model server', () => {
  it('streams tokens that reassemble the non-streamed text exactly', async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Tell me something about  spaced   words, commas; and "quotes" — ñandú!' },
    ];
    const whole = await client.chat({ messages });
    const chunks = await collect(client.streamChat({ messages }));
    const tokens = chunks.filter((c) => c.type === 'token');
    expect(tokens.length).toBeGreaterThan(5);
    expect(tokens.map((c) => c.delta).join('')).toBe(whole.text);
    const done = chunks.at(-1);
    expect(done).toMatchObject({ type: 'done', finishReason: 'stop', text: whole.text, toolCalls: [] });
  });

  it('reports usage equal to the tokenizer count, streamed and not', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Count me [[tokens:37]]' }];
    const chunks = await collect(client.streamChat({ messages }));
    const done = chunks.at(-1);
    if (done?.type !== 'done') throw new Error('no done chunk');
    expect(countTokens(done.text, 'gpt-4o')).toBe(37);
    expect(done.usage).toEqual({
      promptTokens: countChatTokens(messages, 'gpt-4o'),
      completionTokens: 37,
      totalTokens: countChatTokens(messages, 'gpt-4o') + 37,
    });
    expect((await client.chat({ messages })).usage).toEqual(done.usage);
  });

  it('assembles tool_call deltas into whole calls', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'Search the docs for the refund policy and tell me the time [[parallel]]' }];
    const chunks = await collect(client.streamChat({ messages, tools: TOOLS }));
    expect(chunks.some((c) => c.type === 'token')).toBe(false);
    const calls = chunks.filter((c) => c.type === 'tool_call');
    expect(calls.map((c) => c.name)).toEqual(['search_knowledge', 'current_time']);
    expect(JSON.parse(calls[0]?.arguments ?? '')).toEqual({ query: 'Search the docs for the refund policy and tell me the time' });
    expect(JSON.parse(calls[1]?.arguments ?? '')).toEqual({ timezone: 'UTC' });
    expect(calls[0]?.id).toMatch(/^call_[0-9a-f]{24}$/);
    const done = chunks.at(-1);
    expect(done).toMatchObject({ type: 'done', finishReason: 'tool_calls' });
    const whole = await client.chat({ messages, tools: TOOLS });
    expect(whole.toolCalls).toEqual(calls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })));
  });

  it('closes the tool loop: the reply quotes the tool result', async () => {
    const first = await client.chat({ messages: [{ role: 'user', content: 'What time is it?' }], tools: TOOLS });
    const call = first.toolCalls[0];
    if (!call) throw new Error('expected a tool call');
    const messages: ChatMessage[] = [
      { role: 'user', content: 'What time is it?' },
      { role: 'assistant', content: '', toolCalls: [call] },
      { role: 'tool', content: '2026-01-01T12:00:00Z', toolCallId: call.id },
    ];
    const answer = await client.chat({ messages, tools: TOOLS });
    expect(answer.toolCalls).toEqual([]);
    expect(answer.text).toContain('"2026-01-01T12:00:00Z"');
  });

  it('is what the plain openai SDK sees too (chunk shape, DONE, models, timing header)', async () => {
    const sdk = new OpenAI({ baseURL: server.url, apiKey: 'dev' });
    const stream = await sdk.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect((await sdk.models.list()).data.map((m) => m.id)).toContain('parley-dev');
    const { response } = await sdk.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(Number(response.headers.get('x-dev-model-time-ms'))).toBeGreaterThanOrEqual(0);
    const stats = (await (await fetch(server.url.replace('/v1', '/_stats'))).json()) as { requests: { chat: number; stream: number }; modelTimeMs: number };
    expect(stats.requests).toMatchObject({ chat: 2, stream: 1 });
  });

  it("records each streamed chat's own time to first token and its last user message (GET /_requests)", async () => {
    const slow = 'First question, answered slowly [[slow:40]] [[tokens:3]]';
    await collect(
      client.streamChat({
        messages: [
          { role: 'user', content: 'Earlier turn' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: slow },
        ],
      }),
    );
    await collect(client.streamChat({ messages: [{ role: 'user', content: 'Second question [[tokens:20]]' }] }));
    await client.chat({ messages: [{ role: 'user', content: 'Not streamed' }] });
    const records = (await (await fetch(server.url.replace('/v1', '/_requests'))).json()) as Array<{
      lastUser?: string;
      firstTokenMs?: number;
      modelTimeMs: number;
    }>;
    expect(records.map((r) => r.lastUser)).toEqual([slow, 'Second question [[tokens:20]]', 'Not streamed']);
    expect(records[2]?.firstTokenMs).toBeUndefined();
    const [first, second] = records;
    // The slow reply's first token waited one token delay; its last waited three (then the finish chunk).
    expect(first?.firstTokenMs).toBeGreaterThanOrEqual(39);
    expect(first?.modelTimeMs).toBeGreaterThanOrEqual(3 * 39);
    expect(second?.firstTokenMs).toBeLessThanOrEqual(second?.modelTimeMs ?? NaN);
    // /_stats keeps its short view; a reset clears both.
    server.control.reset();
    expect(await (await fetch(server.url.replace('/v1', '/_requests'))).json()).toEqual([]);
  });

  it('embeds in batches, in order, with paraphrases closer than unrelated text', async () => {
    const batched = createModelClient({
      baseURL: server.url,
      apiKey: 'dev',
      model: 'parley-dev-embed',
      timeoutMs: 5_000,
      maxRetries: 0,
      embedBatchSize: 2,
      logLevel: 'off',
    });
    const texts = ['How do I reset my password?', 'Resetting a forgotten password', 'Opening hours on public holidays', 'reset password steps', 'x'];
    const vectors = await batched.embed(texts);
    expect(vectors).toHaveLength(5);
    expect(server.control.stats()).toMatchObject({ requests: { embeddings: 3 } });
    expect(cosine(vectors[0] ?? [], vectors[1] ?? [])).toBeGreaterThan(cosine(vectors[0] ?? [], vectors[2] ?? []));
    expect((await batched.embed([texts[3] ?? '']))[0]).toEqual(vectors[3]);
    // The SDK's default base64 encoding works against the dev server too.
    const sdk = new OpenAI({ baseURL: server.url, apiKey: 'dev' });
    const viaBase64 = await sdk.embeddings.create({ model: 'm', input: texts[0] ?? '' });
    expect(Array.from(viaBase64.data[0]?.embedding ?? [])[0]).toBeCloseTo(vectors[0]?.[0] ?? NaN, 6);
  });
});
