import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { redisModeTest as test } from '@parley/testing';
import { conversationLockKey } from '@parley/contracts';
import { ConversationLock, type LockGrant } from './conversation-lock.js';

const granted = (r: LockGrant | { holder: string }): LockGrant => {
  if (!('token' in r)) throw new Error(`expected a grant, the lock is held by ${r.holder}`);
  return r;
};

describe('conversation lock', () => {
  test('one run at a time: a second run learns the holder and the lock is left as it was', async ({ prefix, redis }) => {
    const lock = new ConversationLock(redis, prefix, 30_000);
    const conversationId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const grant = granted(await lock.tryAcquire(conversationId, a));
    expect(await redis.get(conversationLockKey(prefix, conversationId))).toBe(ConversationLock.holder(a, grant));
    expect(await lock.tryAcquire(conversationId, b)).toEqual({ holder: a });
    expect(await redis.get(conversationLockKey(prefix, conversationId))).toBe(ConversationLock.holder(a, grant));
    expect(await redis.pttl(conversationLockKey(prefix, conversationId))).toBeGreaterThan(0);
    // Released, it is free for the next run.
    await lock.release(conversationId, a, grant);
    granted(await lock.tryAcquire(conversationId, b));
  });

  test('the same run taking over (a redelivery) gets a new grant; the superseded one can neither renew nor release', async ({ prefix, redis }) => {
    const lock = new ConversationLock(redis, prefix, 30_000);
    const conversationId = randomUUID();
    const runId = randomUUID();
    const first = granted(await lock.tryAcquire(conversationId, runId));
    const second = granted(await lock.tryAcquire(conversationId, runId));
    expect(second.token).not.toBe(first.token);
    expect(await lock.renew(conversationId, runId, first)).toBe(false);
    await lock.release(conversationId, runId, first);
    expect(await redis.get(conversationLockKey(prefix, conversationId))).toBe(ConversationLock.holder(runId, second));
    expect(await lock.renew(conversationId, runId, second)).toBe(true);
  });
});
