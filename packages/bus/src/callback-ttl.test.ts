import { describe, expect } from 'vitest';
import { redisModeTest as test } from '@parley/testing';
import { Outbox } from './outbox.js';

const TTL = 60_000;

describe('callback queue lifetime', () => {
  test('a reply to a caller that never reads expires: the push that creates its queue gives it the TTL', async ({ prefix, redis }) => {
    const outbox = new Outbox(redis, 60_000, TTL);
    const queue = `${prefix}:cb:{gone}`;
    outbox.push(queue, 'reply-1');
    await outbox.drain();
    const ttl = await redis.pttl(queue);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL);
    // A later push onto the existing queue keeps it expiring (it does not persist the key).
    outbox.push(queue, 'reply-2');
    await outbox.drain();
    expect(await redis.lrange(queue, 0, -1)).toEqual(['reply-1', 'reply-2']);
    expect(await redis.pttl(queue)).toBeGreaterThan(0);
  });
});
