/**
 * A conversation whose head message lost its run or its send (a crashed replica between two steps,
 * a dead-lettered run) is restarted by the stall sweep, once, even with two gateway replicas.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, type RunningGateway } from './support/gateway-env.js';

const API_TOKEN = 'cw-api-token-abcdef';
let prefix: string;
let db: string;
let fake: FakeChatwoot;
let gws: RunningGateway[] = [];
let redis: Redis;

beforeAll(async () => {
  prefix = uniquePrefix('cwstall');
  db = await createTestDatabase();
  redis = newRedis();
  fake = await startFakeChatwoot(API_TOKEN);
  const env = { DATABASE_URL: urlForDatabase(db), CHATWOOT_BASE_URL: fake.url, CHATWOOT_API_TOKEN: API_TOKEN, CHATWOOT_WEBHOOK_SECRET: 'cw-webhook-secret-0123456789', CHATWOOT_TENANT_ID: 't-cw', CHATWOOT_STALL_MS: '1500', OUTBOUND_ALLOW_HOSTS: '127.0.0.1' };
  gws = [await startGateway(prefix, env), await startGateway(prefix, env)];
});

afterAll(async () => {
  await Promise.all(gws.map((g) => g.close()));
  await fake?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

test('a head left without its answer is started again by one replica, and the queue moves on', async () => {
  const c = 4242;
  const base = `${prefix}:chatwoot:{cw:t-cw:1:1:${c}}`;
  const job = (runId: string, content: string) => JSON.stringify({ runId, kind: 'direct', tenantId: 't-cw', agentId: null, address: { accountId: 1, inboxId: 1, conversationId: c, messageId: 1 }, contactId: 42, text: 'hi', content, handoff: false });
  // The state a crash leaves: the head was started a minute ago and nothing ever answered it; one more waits behind.
  await redis
    .multi()
    .rpush(`${base}:q`, 'lost-run', 'next-run')
    .hset(`${base}:jobs`, 'lost-run', job('lost-run', 'Answer to the lost one.'), 'next-run', job('next-run', 'Answer to the next one.'), 'k:lost-run', String(Date.now() - 60_000))
    .zadd(`${prefix}:chatwoot:active`, Date.now() - 60_000, `t-cw:1:1:${c}`)
    .exec();
  await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 20_000, what: 'both answers after the sweep' });
  await new Promise((r) => setTimeout(r, 2_000));
  expect(fake.posted(c)).toEqual(['Answer to the lost one.', 'Answer to the next one.']);
  expect(await redis.llen(`${base}:q`)).toBe(0);
});
