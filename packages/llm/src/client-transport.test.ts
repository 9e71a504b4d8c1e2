import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelClient, type ModelClient } from './client.js';
import { startDevModelServer, type DevModelServer } from './dev-server/server.js';
import { ModelError } from './errors.js';
import type { ModelConfig, StreamChunk } from './types.js';

// The transport under the SDK (http-fetch.ts): keep-alive sockets, cancels that close them, and
// connections that die or never open — all against the real dev model server.

let server: DevModelServer;
let config: ModelConfig;
let client: ModelClient;

beforeAll(async () => {
  server = await startDevModelServer({ tokenDelayMs: 0 });
  config = { baseURL: server.url, apiKey: 'dev', model: 'parley-dev', timeoutMs: 5_000, maxRetries: 2, logLevel: 'off' };
  client = createModelClient(config);
});
afterAll(() => server.close());
beforeEach(() => {
  server.control.reset();
  server.control.apply({ retryAfterMs: 5 });
});

interface Stats {
  requests: { chat: number; inFlight: number };
  connections: number;
}
const stats = () => server.control.stats() as unknown as Stats;

async function outcome(stream: AsyncIterable<StreamChunk>): Promise<{ chunks: StreamChunk[]; error: unknown }> {
  const chunks: StreamChunk[] = [];
  try {
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks, error: null };
  } catch (error) {
    return { chunks, error };
  }
}

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('model client transport', () => {
  it('keeps its connection alive across calls', async () => {
    const fresh = createModelClient(config);
    for (let i = 0; i < 10; i++) {
      const { error } = await outcome(fresh.streamChat({ messages: hello }));
      expect(error).toBeNull();
    }
    await fresh.chat({ messages: hello });
    expect(stats().requests.chat).toBe(11);
    expect(stats().connections).toBe(1);
  });

  it('a connection that dies mid-stream: the tokens before it, then a retryable model_error', async () => {
    const { chunks, error } = await outcome(client.streamChat({ messages: [{ role: 'user', content: 'tell me a story [[drop]]' }] }));
    expect(chunks.some((c) => c.type === 'token')).toBe(true);
    expect(chunks.some((c) => c.type === 'done')).toBe(false);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'model_error', retryable: true });
    expect((error as ModelError).message).toMatch(/closed the connection mid-reply/);
    // Not replayed: the user already saw those tokens.
    expect(stats().requests.chat).toBe(1);
  });

  it('a connection that dies mid-body of a whole reply: the same error', async () => {
    const err = await client.chat({ messages: [{ role: 'user', content: 'hi [[drop]]' }] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'model_error', retryable: true });
    expect((err as ModelError).message).toMatch(/closed the connection mid-reply/);
  });

  it('after a dropped connection the next call dials a new one and works', async () => {
    await outcome(client.streamChat({ messages: [{ role: 'user', content: 'x [[drop]]' }] }));
    const { chunks, error } = await outcome(client.streamChat({ messages: hello }));
    expect(error).toBeNull();
    expect(chunks.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  it('connection refused: streamChat fails fast with a model_error that names the cause', async () => {
    const closed = await startDevModelServer();
    await closed.close();
    const offline = createModelClient({ ...config, baseURL: closed.url, maxRetries: 0 });
    const started = performance.now();
    const { error } = await outcome(offline.streamChat({ messages: hello }));
    expect(error).toMatchObject({ code: 'model_error', retryable: true });
    expect((error as ModelError).message).toMatch(/cannot reach the model server.*ECONNREFUSED/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('cancel before the headers closes the request on the server', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const { error } = await outcome(client.streamChat({ messages: [{ role: 'user', content: 'wait [[hang]]' }], signal: controller.signal }));
    expect(error).toMatchObject({ code: 'cancelled' });
    await expect.poll(() => stats().requests.inFlight).toBe(0);
  });

  it('breaking out of the loop closes the stream on the server; the client goes on working', async () => {
    for await (const chunk of client.streamChat({ messages: [{ role: 'user', content: 'long [[tokens:300]] [[slow:10]]' }] })) {
      if (chunk.type === 'token') break;
    }
    await expect.poll(() => stats().requests.inFlight).toBe(0);
    const { error } = await outcome(client.streamChat({ messages: hello }));
    expect(error).toBeNull();
  });
});
