import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { describe, expect } from 'vitest';
import { kitConnection } from '@parley/bus';
import { redisTest as test, testRedisTarget, waitFor } from '@parley/testing';
import { HandoffFeed } from './handoff-feed.js';

describe('handoff feed', () => {
  test('a hundred sockets opening at once on a fresh replica all listen, and all hear the next event', async ({ prefix }) => {
    const redis = kitConnection(testRedisTarget(), 'feed-test');
    await redis.connect();
    const feed = new HandoffFeed(redis, prefix, pino({ level: 'silent' }));
    try {
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      const heard: string[] = [];
      await Promise.all(Array.from({ length: 100 }, (_, i) => feed.listen(tenantId, () => heard.push(String(i)))));
      const conversationId = randomUUID();
      await feed.publish(tenantId, {
        type: 'message',
        conversationId,
        message: { messageId: randomUUID(), role: 'human_agent', content: 'hello', createdAt: new Date().toISOString() },
      });
      await waitFor(() => heard.length === 100, { what: 'every listener heard the event' });
      expect(new Set(heard).size).toBe(100);
    } finally {
      feed.close();
      redis.disconnect();
    }
  });
});
