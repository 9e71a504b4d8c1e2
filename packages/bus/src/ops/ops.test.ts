import { describe, expect } from 'vitest';
import { redisModeTest as test, waitFor } from '@parley/testing';
import { busKeys } from '@parley/contracts';
import { echoWorker, meta, testBus } from '../testing/harness.js';
import { listDeadLetters, replayDeadLetters } from './dead-letters.js';
import { drainConsumer } from './drain-consumer.js';
import { streamStatus } from './stream-status.js';

describe('ops', () => {
  test('status shows length, lag, pending, consumers and dead letters of a service stream', async ({ prefix, redis }) => {
    const empty = await streamStatus(redis, prefix, 'echo');
    expect(empty).toMatchObject({ length: 0, lag: null, pending: 0, consumers: [], deadLetters: 0 });

    const { worker } = echoWorker(prefix, redis, 'w-status');
    const caller = testBus(prefix);
    await caller.call('echo.ping', { n: 1 }, meta);
    await worker.stop(1_000);
    await caller.send('echo.notify', { key: 'a' }, meta);
    await caller.send('echo.notify', { key: 'b' }, meta);
    await redis.xreadgroup('GROUP', 'echo', 'stuck', 'COUNT', 1, 'STREAMS', busKeys.stream(prefix, 'echo'), '>');
    const s = await streamStatus(redis, prefix, 'echo');
    expect(s.length).toBe(3);
    expect(s.lag).toBe(1);
    expect(s.pending).toBe(1);
    expect(s.consumers.map((c) => c.name).sort()).toEqual(['stuck', 'w-status']);
    expect(s.oldestPendingMs).toBeGreaterThanOrEqual(0);
  });

  test('dead letters are listed and replayed onto the stream, where they run', async ({ prefix, redis }) => {
    const { worker } = echoWorker(prefix, redis, 'w-dlq');
    const caller = testBus(prefix);
    await expect(caller.call('echo.crash', { key: 'x' }, meta, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'max_deliveries' });
    await caller.call('echo.ping', { n: 1 }, meta);
    await redis.xadd(busKeys.stream(prefix, 'echo'), '*', 'a', 'poison');
    await waitFor(async () => (await listDeadLetters(redis, prefix, 'echo')).length === 2, { what: 'two dead letters' });
    const letters = await listDeadLetters(redis, prefix, 'echo');
    expect(letters.map((l) => l.code)).toEqual(['invalid_payload', 'max_deliveries']);
    expect(letters[1]).toMatchObject({ type: 'echo.crash', attempts: 2 });

    const result = await replayDeadLetters(redis, prefix, 'echo', 'all');
    expect(result.replayed).toHaveLength(1);
    expect(result.skipped).toEqual([{ id: letters[0]!.id, why: expect.stringContaining('poison') }]);
    // The replayed crash runs again (twice more) and lands back in the dead letters.
    await waitFor(async () => (await redis.get(`${prefix}:crashes:x`)) === '4', { what: 'replayed action ran' });
    await worker.stop(500);
  });

  test('draining a consumer hands its pending entries to the others before removing it', async ({ prefix, redis }) => {
    const caller = testBus(prefix);
    await redis.xgroup('CREATE', busKeys.stream(prefix, 'echo'), 'echo', '0', 'MKSTREAM');
    await caller.send('echo.notify', { key: 'held' }, meta);
    await redis.xreadgroup('GROUP', 'echo', 'leaving', 'COUNT', 10, 'STREAMS', busKeys.stream(prefix, 'echo'), '>');
    const drained = await drainConsumer(redis, prefix, 'echo', 'leaving', 100);
    expect(drained).toMatchObject({ handedOver: 1, removed: true });
    echoWorker(prefix, redis, 'stays');
    await waitFor(async () => (await redis.get(`${prefix}:notify:held`)) === '1', { timeoutMs: 5_000, what: 'handed-over entry ran' });
    const s = await streamStatus(redis, prefix, 'echo');
    expect(s.consumers.map((c) => c.name)).not.toContain('leaving');
  });
});
