import { describe, expect } from 'vitest';
import { redisModeTest as test, waitFor } from '@parley/testing';
import { ActionError } from '@parley/contracts';
import { echoWorker, meta, testBus } from './testing/harness.js';

describe('bus request/reply', () => {
  test('call gets the typed reply; tenant and trace travel with the action', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const reply = await caller.call('echo.ping', { n: 7 }, { ...meta, traceId: 'a'.repeat(32) });
    expect(reply).toEqual({ n: 7, worker: 'w1', traceId: 'a'.repeat(32), tenantId: 't1' });
  });

  test('many concurrent calls each get their own reply', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, n) => caller.call('echo.ping', { n }, meta)));
    expect(replies.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(caller.pendingCalls()).toBe(0);
  });

  test('send is durable fire-and-forget: it is handled even when the worker starts later', async ({ prefix, redis }) => {
    const caller = testBus(prefix);
    const id = await caller.send('echo.notify', { key: 'k' }, meta);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    echoWorker(prefix, redis);
    await waitFor(async () => (await redis.get(`${prefix}:notify:k`)) === '1', { what: 'notify handled' });
  });

  test('a call with no worker times out with a typed error and leaves nothing pending', async ({ prefix }) => {
    const caller = testBus(prefix);
    const err = await caller.call('echo.ping', { n: 1 }, meta, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    expect((err as ActionError).code).toBe('timeout');
    expect((err as ActionError).retryable).toBe(true);
    expect(caller.pendingCalls()).toBe(0);
  });

  test('an aborted call rejects with cancelled and is forgotten', async ({ prefix }) => {
    const caller = testBus(prefix);
    const ac = new AbortController();
    const p = caller.call('echo.ping', { n: 1 }, meta, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    expect(caller.pendingCalls()).toBe(0);
  });

  test('a handler failure reaches the caller as the same typed error', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    await expect(caller.call('echo.fail', {}, meta)).rejects.toMatchObject({ code: 'not_found', message: 'nothing here' });
  });

  test('events stream to the caller in order before the reply', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const seen: number[] = [];
    const reply = await caller.call('echo.stream', { n: 50 }, meta, { onEvent: (e) => seen.push(e.i) });
    expect(reply).toEqual({ sent: 50 });
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  test('a logged event reaches the caller only once its stream holds it, on one node and on a cluster', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const stream = `${prefix}:log:l1`;
    // At each event, how many entries the stream holds (read on another connection).
    const heldAtEvent: Array<Promise<number>> = [];
    const reply = await caller.call('echo.logged', { key: 'l1', n: 40 }, meta, { onEvent: () => heldAtEvent.push(redis.xlen(stream)) });
    expect(reply).toEqual({ sent: 40, refused: 0 });
    const held = await Promise.all(heldAtEvent);
    expect(held).toHaveLength(40);
    held.forEach((n, i) => expect(n, `entries when event ${i} arrived`).toBeGreaterThan(i));
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries.map(([, f]) => Number(f[1]))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await redis.pttl(stream)).toBeGreaterThan(0);
  });

  test('an append Redis refuses rejects in the handler, which can say so', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    await redis.set(`${prefix}:log:l2`, 'not a stream');
    const seen: number[] = [];
    const reply = await caller.call('echo.logged', { key: 'l2', n: 3 }, meta, { onEvent: (e) => seen.push(e.i) });
    expect(reply).toEqual({ sent: 3, refused: 3 });
    expect(await redis.get(`${prefix}:log:l2`)).toBe('not a stream');
    // A cluster sends the events after the append's reply, so a refused append sends none. One node sends them
    // in the same write: only a key of another type fails the append alone (Outbox.append).
    expect(seen).toEqual(redis.isCluster ? [] : [0, 1, 2]);
  });

  test('handler concurrency is bounded', async ({ prefix, redis }) => {
    const { probe } = echoWorker(prefix, redis, 'w1', 3);
    const caller = testBus(prefix);
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => caller.call('echo.incr', { key: `c${i}`, sleepMs: 40 }, meta)));
    expect(replies).toHaveLength(12);
    expect(probe.maxActive).toBe(3);
  });

  test('an action past its deadline is not executed and the caller hears deadline_exceeded', async ({ prefix, redis }) => {
    const caller = testBus(prefix);
    const p = caller.call('echo.incr', { key: 'late' }, { ...meta, deadline: Date.now() + 50 }, { timeoutMs: 3_000 });
    await new Promise((r) => setTimeout(r, 120));
    echoWorker(prefix, redis);
    await expect(p).rejects.toMatchObject({ code: 'deadline_exceeded' });
    expect(await redis.get(`${prefix}:count:late`)).toBeNull();
  });
});
