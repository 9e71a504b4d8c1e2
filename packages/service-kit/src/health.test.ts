import { busKeys } from '@parley/contracts';
import { redisTest } from '@parley/testing';
import { describe, expect } from 'vitest';
import { createHealth, startHealthServer } from './health.js';
import { createMetrics } from './metrics.js';

describe('health server', () => {
  redisTest('/healthz, /readyz with reasons, /metrics with bus hooks and consumer lag', async ({ redis, prefix }) => {
    const health = createHealth({ checkTimeoutMs: 200 });
    let redisUp = true;
    health.addCheck('redis', async () => {
      if (!redisUp) throw new Error('connection refused');
      await redis.ping();
    });
    health.addCheck('slow', () => new Promise<void>(() => {}));
    const metrics = createMetrics({ service: 'conversation', instance: 'conversation-1' });
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', health, registry: metrics.registry });
    const url = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      redisUp = false;
      const notReady = await fetch(`${url}/readyz`);
      expect(notReady.status).toBe(503);
      const body = (await notReady.json()) as { reasons: string[] };
      expect(body.reasons.sort()).toEqual(['redis: connection refused', 'slow: no answer within 200 ms']);

      // A stream with one consumed and two waiting entries: lag 2, pending 1.
      const stream = busKeys.stream(prefix, 'conversation');
      await redis.xgroup('CREATE', stream, 'conversation', '$', 'MKSTREAM');
      for (let i = 0; i < 3; i++) await redis.xadd(stream, '*', 'a', String(i));
      await redis.xreadgroup('GROUP', 'conversation', 'c1', 'COUNT', 1, 'STREAMS', stream, '>');
      metrics.watchConsumerGroup(redis, prefix, 'conversation');
      metrics.watchConsumerGroup(redis, prefix, 'no-such-service'); // a stream nobody wrote to yet
      metrics.busHooks.handled('conversation.get', 'ok', 3);
      metrics.busHooks.called('query.search', 'timeout', 10_000);
      metrics.busHooks.deadLettered('conversation', 'conversation.get', 'Error: something with free text');

      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      const labels = { service: 'conversation', instance: 'conversation-1' };
      expect(sample(text, 'parley_actions_handled_total', { ...labels, type: 'conversation.get', outcome: 'ok' })).toBe(1);
      expect(sample(text, 'parley_action_handler_seconds_bucket', { type: 'conversation.get', outcome: 'ok', le: '0.005' })).toBe(1);
      expect(sample(text, 'parley_action_handler_seconds_bucket', { type: 'conversation.get', outcome: 'ok', le: '0.001' })).toBe(0);
      expect(sample(text, 'parley_bus_call_seconds_count', { type: 'query.search', outcome: 'timeout' })).toBe(1);
      // Free text as a label value would create a series per message; it is bucketed as "other".
      expect(sample(text, 'parley_dead_letters_total', { service: 'conversation', type: 'conversation.get', reason: 'other' })).toBe(1);
      expect(sample(text, 'parley_consumer_lag', { ...labels, stream, group: 'conversation' })).toBe(2);
      expect(sample(text, 'parley_consumer_pending', { ...labels, stream, group: 'conversation' })).toBe(1);
      // No lag is invented for a stream nobody wrote to (its dead-letter count is a plain 0).
      expect(text).not.toMatch(/parley_consumer_(lag|pending)\{[^}]*no-such-service/);
      expect(text).toContain('process_cpu_seconds_total');
    } finally {
      await server.close();
    }
  });

  redisTest('/readyz is 200 when every check passes and 503 once draining', async ({ redis }) => {
    const health = createHealth();
    health.addCheck('redis', async () => void (await redis.ping()));
    const metrics = createMetrics({ service: 's', instance: 'i' }, { defaultMetrics: false });
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', health, registry: metrics.registry });
    try {
      const ok = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ready', checks: { shutdown: 'ok', redis: 'ok' } });
      health.setDraining();
      const draining = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(draining.status).toBe(503);
      expect(((await draining.json()) as { reasons: string[] }).reasons).toEqual(['shutdown: shutting down']);
    } finally {
      await server.close();
    }
  });
});

/** The value of the one sample of `name` whose labels include `labels`; label order does not matter. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
