import { busKeys } from '@parley/contracts';
import { redisTest as test } from '@parley/testing';
import { describe, expect } from 'vitest';
import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  test('reports lag, pending and dead-letter length of the watched group on scrape', async ({ prefix, redis }) => {
    const stream = busKeys.stream(prefix, 'echo');
    const dlq = busKeys.deadLetters(prefix, 'echo');
    await redis.xgroup('CREATE', stream, busKeys.group('echo'), '$', 'MKSTREAM');
    // The first entry was added a minute ago (an entry id is its time in ms).
    await redis.xadd(stream, `${Date.now() - 60_000}-0`, 'n', '0');
    for (let i = 1; i < 3; i++) await redis.xadd(stream, '*', 'n', String(i));
    await redis.xreadgroup('GROUP', busKeys.group('echo'), 'c1', 'COUNT', 1, 'STREAMS', stream, '>');
    await redis.xadd(dlq, '*', 'code', 'invalid');
    await redis.xadd(dlq, '*', 'code', 'max_deliveries');

    const metrics = createMetrics({ service: 'echo', instance: 'echo-1' }, { defaultMetrics: false });
    metrics.watchConsumerGroup(redis, prefix, 'echo');
    const text = await metrics.registry.metrics();

    const labels = `stream="${stream}",group="echo",service="echo",instance="echo-1"`;
    expect(text).toContain(`parley_consumer_lag{${labels}} 2`);
    expect(text).toContain(`parley_consumer_pending{${labels}} 1`);
    const oldest = Number(new RegExp(`parley_consumer_oldest_pending_seconds\\{${labels}\\} ([0-9.]+)`).exec(text)?.[1]);
    expect(oldest).toBeGreaterThanOrEqual(60);
    expect(oldest).toBeLessThan(120);
    expect(text).toContain(`parley_dead_letter_entries{stream="${dlq}",service="echo",instance="echo-1"} 2`);
  });

  test('a service that never received anything reports an empty dead-letter stream, not an error', async ({ prefix, redis }) => {
    const metrics = createMetrics({ service: 'echo', instance: 'echo-1' }, { defaultMetrics: false });
    metrics.watchConsumerGroup(redis, prefix, 'echo');
    const text = await metrics.registry.metrics();
    expect(text).toContain(`parley_dead_letter_entries{stream="${busKeys.deadLetters(prefix, 'echo')}",service="echo",instance="echo-1"} 0`);
    expect(text).not.toContain('parley_consumer_lag{');
    expect(text).not.toContain('parley_consumer_oldest_pending_seconds{');
  });
});

describe('Node metrics', () => {
  const value = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} ([0-9.e+-]+)$`, 'm').exec(text)?.[1]);

  test('the event-loop delay since the last scrape is read at the set resolution', async () => {
    const metrics = createMetrics({ service: 'echo', instance: 'echo-1' }, { eventLoopResolutionMs: 1 });
    // A reset monitor's first sample only starts its clock, and a loaded host can delay that first
    // sample past the stall: a stall is retried (up to five) until a scrape window holds its samples.
    let seen = { max: 0, p50: 0 };
    for (let attempt = 0; attempt < 5 && seen.max < 0.025; attempt++) {
      await metrics.registry.metrics(); // resets the delay monitor: what follows is this attempt's
      await new Promise((r) => setTimeout(r, 5));
      const start = performance.now();
      while (performance.now() - start < 30) {
        // a 30 ms stall of the loop
      }
      // The monitor's timer records the stall when it fires after it.
      await new Promise((r) => setTimeout(r, 5));
      const text = await metrics.registry.metrics();
      seen = { max: value(text, 'nodejs_eventloop_lag_max_seconds'), p50: value(text, 'nodejs_eventloop_lag_p50_seconds') };
    }
    expect(seen.max).toBeGreaterThanOrEqual(0.025);
    expect(seen.p50).toBeLessThan(0.025);
  });

  test('every GC pause is counted', async () => {
    const metrics = createMetrics({ service: 'echo', instance: 'echo-1' });
    let text = '';
    // Young-generation garbage until the observer has reported a GC (it reports between turns of the loop).
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 20_000; i++) void { i, s: `x${i}` };
      await new Promise((r) => setImmediate(r));
      text = await metrics.registry.metrics();
      if (value(text, 'parley_gc_pauses_total') > 0) break;
    }
    expect(value(text, 'parley_gc_pauses_total')).toBeGreaterThan(0);
    expect(value(text, 'parley_gc_pause_seconds_total')).toBeGreaterThan(0);
  });
});
