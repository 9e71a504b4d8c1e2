import { describe, expect } from 'vitest';
import { redisModeTest as test, waitFor } from '@parley/testing';
import { Outbox } from './outbox.js';

const TTL = 60_000;

describe('callback queue lifetime', () => {
  test('a reply to a caller that never reads expires: its queue gets the TTL shortly after the push', async ({ prefix, redis }) => {
    const outbox = new Outbox(redis, 60_000, TTL);
    const queue = `${prefix}:cb:{gone}`;
    outbox.push(queue, 'reply-1');
    await waitFor(async () => (await redis.llen(queue)) === 1, { what: 'reply pushed' });
    await waitFor(async () => (await redis.pttl(queue)) > 0, { what: 'queue given its TTL' });
    expect(await redis.pttl(queue)).toBeLessThanOrEqual(TTL);
    // A later push onto the existing queue keeps it expiring (it does not persist the key).
    outbox.push(queue, 'reply-2');
    await outbox.drain();
    expect(await redis.lrange(queue, 0, -1)).toEqual(['reply-1', 'reply-2']);
    expect(await redis.pttl(queue)).toBeGreaterThan(0);
  });

  test('a clean shutdown (drain) leaves no queue without its TTL', async ({ prefix, redis }) => {
    const outbox = new Outbox(redis, 60_000, TTL);
    const queues = [`${prefix}:cb:{a}`, `${prefix}:cb:{b}`];
    for (const q of queues) outbox.push(q, 'reply');
    await outbox.drain();
    for (const q of queues) expect(await redis.pttl(q)).toBeGreaterThan(0);
  });
});
