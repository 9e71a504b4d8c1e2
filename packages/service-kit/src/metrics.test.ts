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
