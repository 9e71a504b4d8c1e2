import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelClient, type ModelClient } from './client.js';
import { startDevModelServer, type DevModelServer } from './dev-server/server.js';
import { createModelMetrics } from './metrics.js';

let server: DevModelServer;
let registry: Registry;
let client: ModelClient;

beforeAll(async () => {
  server = await startDevModelServer({ tokenDelayMs: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.control.reset();
  server.control.apply({ retryAfterMs: 5 });
  registry = new Registry();
  client = createModelClient({
    baseURL: server.url,
    apiKey: 'dev',
    model: 'parley-dev',
    timeoutMs: 5_000,
    maxRetries: 0,
    logLevel: 'off',
    observer: createModelMetrics(registry),
  });
});

/** One series' value: a counter's, or a histogram's `_count`. */
async function value(name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name.replace(/_count$/, ''));
  const sample = metric?.values.find(
    (v) => (!name.endsWith('_count') || ('metricName' in v && v.metricName === name)) && Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return sample?.value ?? 0;
}

describe('model metrics', () => {
  it('a chat and a stream count their tokens by direction and their latency, by model', async () => {
    const result = await client.chat({ messages: [{ role: 'user', content: 'hello [[tokens:5]]' }] });
    for await (const chunk of client.streamChat({ messages: [{ role: 'user', content: 'again [[tokens:7]]' }], model: 'other-model' })) void chunk;
    expect(result.usage).not.toBeNull();
    expect(await value('parley_llm_tokens_total', { model: 'parley-dev', direction: 'input' })).toBe(result.usage!.promptTokens);
    expect(await value('parley_llm_tokens_total', { model: 'parley-dev', direction: 'output' })).toBe(result.usage!.completionTokens);
    expect(await value('parley_llm_tokens_total', { model: 'other-model', direction: 'output' })).toBeGreaterThan(0);
    expect(await value('parley_llm_request_seconds_count', { model: 'parley-dev', operation: 'chat' })).toBe(1);
    expect(await value('parley_llm_request_seconds_count', { model: 'other-model', operation: 'stream' })).toBe(1);
    expect(await value('parley_llm_errors_total', { model: 'parley-dev' })).toBe(0);
  });

  it('a failed call is an error by code and still a request; a cancelled one is neither', async () => {
    server.control.apply({ failNext: { status: 500, count: 1 } });
    await expect(client.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ code: 'model_error' });
    expect(await value('parley_llm_errors_total', { model: 'parley-dev', operation: 'chat', code: 'model_error' })).toBe(1);
    expect(await value('parley_llm_request_seconds_count', { model: 'parley-dev', operation: 'chat' })).toBe(1);

    server.control.apply({ hang: true });
    const abort = new AbortController();
    const call = client.chat({ messages: [{ role: 'user', content: 'hi' }], signal: abort.signal });
    abort.abort();
    await expect(call).rejects.toMatchObject({ code: 'cancelled' });
    expect(await value('parley_llm_errors_total', { model: 'parley-dev', operation: 'chat' })).toBe(1);
    expect(await value('parley_llm_request_seconds_count', { model: 'parley-dev', operation: 'chat' })).toBe(1);
  });
});
