import { describe, expect } from 'vitest';
import { redisModeTest as test, waitFor } from '@parley/testing';
import { busKeys } from '@parley/contracts';
import { trimByProgress } from './trimmer.js';
import { meta, testBus } from './testing/harness.js';
import { echoHandlers } from './testing/echo-catalog.js';

describe('stream trimming', () => {
  test('processed entries are trimmed; an unacked entry and everything after it survive', async ({ prefix, redis }) => {
    const stream = busKeys.stream(prefix, 'echo');
    await redis.xgroup('CREATE', stream, 'echo', '0', 'MKSTREAM');
    const ids: string[] = [];
    // Enough entries that approximate trimming (whole radix-tree nodes of ~100 entries) can act.
    for (let i = 0; i < 450; i++) ids.push((await redis.xadd(stream, '*', 'a', `{"i":${i}}`))!);
    // A consumer takes 300 and acks all but #250 (its handler died), then 150 are never delivered.
    await redis.xreadgroup('GROUP', 'echo', 'dead', 'COUNT', 300, 'STREAMS', stream, '>');
    await redis.xack(stream, 'echo', ...ids.slice(0, 300).filter((_, i) => i !== 250));

    const floor = await trimByProgress(redis, stream);
    expect(floor).toBe(ids[250]);
    const left = await redis.xrange(stream, '-', '+');
    const leftIds = left.map(([id]) => id);
    expect(leftIds.length).toBeLessThan(450);
    expect(leftIds).toContain(ids[250]);
    for (const id of ids.slice(250)) expect(leftIds).toContain(id);
  });

  test('a stream without a consumer group is never trimmed', async ({ prefix, redis }) => {
    const stream = busKeys.stream(prefix, 'nobody');
    for (let i = 0; i < 300; i++) await redis.xadd(stream, '*', 'a', '{}');
    expect(await trimByProgress(redis, stream)).toBeNull();
    expect(await redis.xlen(stream)).toBe(300);
  });

  test('a running worker trims its stream by its group progress', async ({ prefix, redis }) => {
    const workerBus = testBus(prefix, { instance: 'w-trim', service: 'echo', trimEveryMs: 50 });
    workerBus.handle('echo', echoHandlers(redis, prefix, 'w-trim'));
    const caller = testBus(prefix);
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 100 }, (_, n) => caller.call('echo.ping', { n }, meta)));
    const stream = busKeys.stream(prefix, 'echo');
    await waitFor(async () => (await redis.xlen(stream)) < 400, { what: 'stream trimmed by the worker' });
  });
});
