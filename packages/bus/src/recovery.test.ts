import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { nodesOf, redisModeTest as test, spawnTs, waitFor } from '@parley/testing';
import { busKeys } from '@parley/contracts';
import { echoWorker, meta, testBus } from './testing/harness.js';

const workerFile = fileURLToPath(new URL('./testing/echo-worker.ts', import.meta.url));
const stream = (prefix: string) => busKeys.stream(prefix, 'echo');
const dlq = (prefix: string) => busKeys.deadLetters(prefix, 'echo');

describe('bus recovery', () => {
  test('a worker killed with SIGKILL mid-handler: another consumer reclaims the action and applies it once', async ({ prefix, redis }) => {
    const doomed = spawnTs(workerFile, { BUS_PREFIX: prefix, INSTANCE_ID: 'doomed' });
    await doomed.waitForOutput('echo worker ready');
    const caller = testBus(prefix);
    const reply = caller.call('echo.incr', { key: 'k', sleepMs: 60_000 }, meta, { timeoutMs: 15_000 });
    await waitFor(() => redis.get(`${prefix}:started:k`), { what: 'handler started in the doomed worker' });
    await doomed.kill('SIGKILL');

    echoWorker(prefix, redis, 'survivor');
    expect(await reply).toEqual({ value: 1, worker: 'survivor' });
    expect(await redis.get(`${prefix}:count:k`)).toBe('1');
    expect(await redis.xpending(stream(prefix), 'echo')).toEqual([0, null, null, null]);
  }, 30_000);

  test('crashing handler: redelivered up to max deliveries, then dead-lettered with the reason and the caller told', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const err = await caller.call('echo.crash', { key: 'c' }, meta, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'max_deliveries', ref: expect.any(String) });
    // The caller gets a reference, never the crash itself; the dead letter keeps the reason.
    expect((err as Error).message).not.toContain('boom');
    expect((err as Error).message).toContain((err as { ref: string }).ref);
    expect(await redis.get(`${prefix}:crashes:c`)).toBe('2');
    const letters = await redis.xrange(dlq(prefix), '-', '+');
    expect(letters).toHaveLength(1);
    const fields = letters[0]![1];
    const get = (f: string) => fields[fields.indexOf(f) + 1];
    expect(get('code')).toBe('max_deliveries');
    expect(get('reason')).toContain('boom: handler crashed');
    expect(get('attempts')).toBe('2');
    expect(get('type')).toBe('echo.crash');
    expect(await redis.xpending(stream(prefix), 'echo')).toEqual([0, null, null, null]);
  });

  test('a crash on data PostgreSQL refuses (SQLSTATE class 22) is answered at once as internal with a reference: no retry, no dead letter', async ({
    prefix,
    redis,
  }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    for (const sqlstate of ['22021', '22P05']) {
      const err = await caller.call('echo.crash', { key: sqlstate, sqlstate }, meta, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'internal', retryable: false, ref: expect.any(String) });
      expect((err as Error).message).not.toMatch(/insert|params|boom|0x00/);
      expect(await redis.get(`${prefix}:crashes:${sqlstate}`)).toBe('1');
    }
    // A class-08 (connection) failure is still retried: only the data itself is hopeless.
    await caller.call('echo.crash', { key: 'conn', sqlstate: '08006' }, meta, { timeoutMs: 10_000 }).catch(() => {
      /* the crash's retries are what this test counts, not its answer */
    });
    expect(await redis.get(`${prefix}:crashes:conn`)).toBe('2');
    expect(await redis.xlen(dlq(prefix))).toBe(1);
    expect(await redis.xpending(stream(prefix), 'echo')).toEqual([0, null, null, null]);
  });

  test('invalid payload, unknown type and poison entries are dead-lettered; the worker keeps serving', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const bad = await caller.call('echo.ping', { n: 'seven' } as unknown as { n: number }, meta).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'invalid_payload' });
    expect((bad as Error).message).toContain('n:');

    // A newer producer that knows a type this worker does not.
    const { z } = await import('zod');
    const { action } = await import('@parley/contracts');
    const newer = testBus(prefix, { catalog: { 'echo.future': action({ service: 'echo', description: 'x', data: z.object({}), reply: z.object({}) }) } });
    await expect(newer.call('echo.future', {}, meta)).rejects.toMatchObject({ code: 'unknown_action' });

    await redis.xadd(stream(prefix), '*', 'a', '{not json');
    await redis.xadd(stream(prefix), '*', 'junk', 'no action field');

    expect(await caller.call('echo.ping', { n: 1 }, meta)).toMatchObject({ n: 1 });
    await waitFor(async () => (await redis.xlen(dlq(prefix))) === 4, { what: 'four dead letters' });
    const codes = (await redis.xrange(dlq(prefix), '-', '+')).map(([, f]) => f[f.indexOf('code') + 1]);
    expect(codes).toEqual(['invalid_payload', 'unknown_action', 'invalid_payload', 'invalid_payload']);
    expect(await redis.xpending(stream(prefix), 'echo')).toEqual([0, null, null, null]);
  });

  test('a mutation redelivered after success is not executed again and returns the first reply', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const first = await caller.call('echo.incr', { key: 'idem' }, { ...meta, actionId: 'fixed-action-id' });
    const second = await caller.call('echo.incr', { key: 'idem' }, { ...meta, actionId: 'fixed-action-id' });
    expect(second).toEqual(first);
    expect(await redis.get(`${prefix}:count:idem`)).toBe('1');
    const third = await caller.call('echo.incr', { key: 'idem' }, meta);
    expect(third.value).toBe(2);
  });

  test('NOGROUP (stream deleted under a running worker) is healed by recreating the group', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    expect(await caller.call('echo.ping', { n: 1 }, meta)).toMatchObject({ n: 1 });
    await redis.del(stream(prefix));
    expect(await caller.call('echo.ping', { n: 2 }, meta, { timeoutMs: 8_000 })).toMatchObject({ n: 2 });
    const groups = (await redis.xinfo('GROUPS', stream(prefix))) as unknown[];
    expect(groups).toHaveLength(1);
  });

  test('Redis connections dropped and restored: calls in flight and new calls complete', async ({ prefix, redis }) => {
    const { bus: workerBus } = echoWorker(prefix, redis, 'w-drop');
    const caller = testBus(prefix, { instance: `caller-${prefix}` });
    expect(await caller.call('echo.ping', { n: 1 }, meta)).toMatchObject({ n: 1 });
    // Every connection of the two buses, on every node they use (one node, or each master of a cluster).
    const ours = [];
    for (const node of nodesOf(redis)) {
      const list = (await node.client('LIST')) as string;
      for (const l of list.split('\n').filter((l) => l.includes(`name=caller-${prefix}`) || l.includes('name=w-drop'))) {
        const id = /id=(\d+)/.exec(l)?.[1];
        if (id !== undefined) ours.push({ node, id });
      }
    }
    expect(ours.length).toBeGreaterThanOrEqual(3);
    const inFlight = caller.call('echo.ping', { n: 2 }, meta, { timeoutMs: 8_000 });
    for (const { node, id } of ours) await node.client('KILL', 'ID', id);
    expect(await inFlight).toMatchObject({ n: 2 });
    expect(await caller.call('echo.ping', { n: 3 }, meta, { timeoutMs: 8_000 })).toMatchObject({ n: 3 });
    expect(workerBus.isConnected()).toBe(true);
  });

  test('graceful shutdown finishes in-flight work, replies, and leaves nothing pending', async ({ prefix, redis }) => {
    const { worker, probe } = echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const calls = Array.from({ length: 5 }, (_, i) => caller.call('echo.incr', { key: `g${i}`, sleepMs: 300 }, meta));
    await waitFor(() => probe.started === 5, { what: 'five handlers running' });
    await worker.stop(5_000);
    const replies = await Promise.all(calls);
    expect(replies.map((r) => r.value)).toEqual([1, 1, 1, 1, 1]);
    expect(await redis.xpending(stream(prefix), 'echo')).toEqual([0, null, null, null]);
  });

  test('a restarted consumer with the same name drains its own pending entries first', async ({ prefix, redis }) => {
    const caller = testBus(prefix);
    const { bus } = echoWorker(prefix, redis, 'same-name');
    await caller.call('echo.ping', { n: 0 }, meta); // group exists
    await bus.close(0);
    // Simulate a crash after delivery: the entry is in same-name's PEL, never acked.
    await caller.send('echo.incr', { key: 'own' }, meta);
    await redis.xreadgroup('GROUP', 'echo', 'same-name', 'COUNT', 10, 'STREAMS', stream(prefix), '>');
    echoWorker(prefix, redis, 'same-name');
    await waitFor(async () => (await redis.get(`${prefix}:count:own`)) === '1', { timeoutMs: 3_000, what: 'own pending drained' });
  });
});
