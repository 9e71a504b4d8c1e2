import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelClient, type ModelClient } from './client.js';
import { startDevModelServer, type DevModelServer } from './dev-server/server.js';
import { ModelError } from './errors.js';
import type { ModelConfig, StreamChunk } from './types.js';

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
  // Retry-After in milliseconds keeps the SDK's backoff short in tests; the real schedule is in the README.
  server.control.apply({ retryAfterMs: 5 });
});

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  return err as ModelError;
}

async function drain(stream: AsyncIterable<StreamChunk>, onChunk?: (c: StreamChunk) => void): Promise<StreamChunk[]> {
  const out: StreamChunk[] = [];
  for await (const chunk of stream) {
    out.push(chunk);
    onChunk?.(chunk);
  }
  return out;
}

interface Stats {
  requests: { chat: number; inFlight: number };
  byStatus: Record<string, number>;
  connections: number;
}
const stats = () => server.control.stats() as unknown as Stats;

describe('model client failures', () => {
  it('429 once, then success: retried inside one call', async () => {
    server.control.apply({ failNext: { status: 429, count: 1 } });
    const chunks = await drain(client.streamChat({ messages: [{ role: 'user', content: 'hello' }] }));
    expect(chunks.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' });
    expect(stats().requests.chat).toBe(2);
    expect(stats().byStatus).toEqual({ 200: 1, 429: 1 });
  });

  it('the [[fail:429:1]] magic word does the same without a control call', async () => {
    const result = await client.chat({ messages: [{ role: 'user', content: 'hello [[fail:429:1]]' }] });
    expect(result.text).toMatch(/^You said: "hello"/);
    expect(stats().requests.chat).toBe(2);
  });

  it('500 forever: ModelError with the provider message after maxRetries', async () => {
    const err = await failure(drain(client.streamChat({ messages: [{ role: 'user', content: 'boom [[fail:500]]' }] })));
    expect(err).toMatchObject({ code: 'model_error', status: 500, retryable: true, message: 'The dev model server failed on purpose with 500 (scripted).' });
    expect(stats().requests.chat).toBe(3);
  });

  it('429 forever: rate_limited, and a 400 is not retried', async () => {
    const limited = await failure(client.chat({ messages: [{ role: 'user', content: 'x [[fail:429]]' }] }));
    expect(limited).toMatchObject({ code: 'rate_limited', status: 429, retryable: true });
    server.control.reset();
    const bad = await failure(client.chat({ messages: [{ role: 'user', content: 'x [[fail:400]]' }] }));
    expect(bad).toMatchObject({ code: 'model_error', status: 400, retryable: false });
    expect(stats().requests.chat).toBe(1);
  });

  it('hang: timeout error at the deadline, not after retries', async () => {
    const started = performance.now();
    const err = await failure(drain(client.streamChat({ messages: [{ role: 'user', content: 'wait [[hang]]' }], timeoutMs: 300 })));
    expect(err).toMatchObject({ code: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('a stream that stalls mid-way times out too', async () => {
    const err = await failure(drain(client.streamChat({ messages: [{ role: 'user', content: 'tell me a long story [[stall]]' }], timeoutMs: 300 })));
    expect(err.code).toBe('timeout');
  });

  it('abort mid-stream: cancelled at once, and the server sees the disconnect', async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    const err = await failure(
      drain(client.streamChat({ messages: [{ role: 'user', content: 'long reply please [[tokens:400]] [[slow:20]]' }], signal: controller.signal }), (c) => {
        if (c.type === 'token' && abortedAt === 0) {
          abortedAt = performance.now();
          controller.abort();
        }
      }),
    );
    expect(err).toMatchObject({ code: 'cancelled', retryable: false });
    expect(performance.now() - abortedAt).toBeLessThan(100);
    await expect.poll(() => (server.control.stats() as { requests: { inFlight: number } }).requests.inFlight).toBe(0);
  });

  it('abort during retry backoff returns at once, not after the backoff', async () => {
    server.control.apply({ retryAfterMs: 5_000, failNext: { status: 503, count: 5 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();
    const err = await failure(client.chat({ messages: [{ role: 'user', content: 'hi' }], signal: controller.signal }));
    expect(err.code).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('an already aborted signal never reaches the server', async () => {
    const err = await failure(client.chat({ messages: [{ role: 'user', content: 'hi' }], signal: AbortSignal.abort() }));
    expect(err.code).toBe('cancelled');
    expect(stats().requests.chat).toBe(0);
  });

  it('malformed chunk: a clear model_error', async () => {
    const err = await failure(drain(client.streamChat({ messages: [{ role: 'user', content: 'hi [[malformed]]' }] })));
    expect(err.code).toBe('model_error');
    expect(err.message).toMatch(/malformed stream chunk/);
    const whole = await failure(client.chat({ messages: [{ role: 'user', content: 'hi [[malformed]]' }] }));
    expect(whole.code).toBe('model_error');
  });

  it('an unreachable server: model_error that says so', async () => {
    const closed = await startDevModelServer();
    await closed.close();
    const offline = createModelClient({ ...config, baseURL: closed.url, maxRetries: 0 });
    const err = await failure(offline.chat({ messages: [{ role: 'user', content: 'hi' }] }));
    expect(err).toMatchObject({ code: 'model_error', retryable: true });
    expect(err.message).toMatch(/cannot reach the model server/);
  });
});

// The transport under the SDK (http-fetch.ts): keep-alive sockets, cancels that close them, and
// connections that die or never open — all against the real dev model server.

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

  it('an error chunk mid-stream: the tokens before it, then a retryable model_error with the provider message', async () => {
    const { chunks, error } = await outcome(client.streamChat({ messages: [{ role: 'user', content: 'tell me a story [[stream_error]]' }] }));
    expect(chunks.some((c) => c.type === 'token')).toBe(true);
    expect(chunks.some((c) => c.type === 'done')).toBe(false);
    expect(error).toMatchObject({ code: 'model_error', retryable: true, message: 'the model failed mid-reply (dev model [[stream_error]])' });
    // The connection ended cleanly: the next call goes on on it.
    const next = await outcome(client.streamChat({ messages: hello }));
    expect(next.error).toBeNull();
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
