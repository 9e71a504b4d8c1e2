/**
 * A conversation whose head message lost its run or its send (a crashed replica between two steps,
 * a dead-lettered run) is restarted by the stall sweep, once, even with two gateway replicas; a head
 * whose attempts ran out is given up with one notice (see chatwoot-poison.test.ts for the whole story).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { GIVE_UP_NOTICE } from '../apps/gateway/src/channels/chatwoot/dispatch.js';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, type RunningGateway } from './support/gateway-env.js';

const API_TOKEN = 'cw-api-token-abcdef';
const SECRET = 'cw-webhook-secret-0123456789';
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
  const env = {
    DATABASE_URL: urlForDatabase(db),
    CHATWOOT_BASE_URL: fake.url,
    CHATWOOT_API_TOKEN: API_TOKEN,
    CHATWOOT_WEBHOOK_SECRET: SECRET,
    CHATWOOT_TENANT_ID: 't-cw',
    CHATWOOT_STALL_MS: '1500',
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
  };
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
  const job = (runId: string, content: string) =>
    JSON.stringify({
      runId,
      kind: 'direct',
      tenantId: 't-cw',
      agentId: null,
      address: { accountId: 1, inboxId: 1, conversationId: c, messageId: 1 },
      contactId: 42,
      text: 'hi',
      content,
      handoff: false,
    });
  // The state a crash leaves: the head was started a minute ago and nothing ever answered it; one more waits behind.
  await redis
    .multi()
    .rpush(`${base}:q`, 'lost-run', 'next-run')
    .hset(
      `${base}:jobs`,
      'lost-run',
      job('lost-run', 'Answer to the lost one.'),
      'next-run',
      job('next-run', 'Answer to the next one.'),
      'k:lost-run',
      String(Date.now() - 60_000),
    )
    .zadd(`${prefix}:chatwoot:active`, Date.now() - 60_000, `t-cw:1:1:${c}`)
    .exec();
  await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 20_000, what: 'both answers after the sweep' });
  await new Promise((r) => setTimeout(r, 2_000));
  expect(fake.posted(c)).toEqual(['Answer to the lost one.', 'Answer to the next one.']);
  expect(await redis.llen(`${base}:q`)).toBe(0);
});

test('a head already given up whose notice never came is dropped at the next stall, without a second notice; the queue moves on', async () => {
  // Run ids of their own: a send's action id (`cw-send:<runId>`) is deduplicated by the bus.
  const c = 4243;
  const base = `${prefix}:chatwoot:{cw:t-cw:1:1:${c}}`;
  const job = (runId: string, content: string) =>
    JSON.stringify({
      runId,
      kind: 'direct',
      tenantId: 't-cw',
      agentId: null,
      address: { accountId: 1, inboxId: 1, conversationId: c, messageId: 1 },
      contactId: 42,
      text: 'hi',
      content,
      handoff: false,
    });
  // Started 3 times, given up (its notice run id recorded), and the notice was lost too.
  await redis
    .multi()
    .rpush(`${base}:q`, 'doomed-run-2', 'next-run-2')
    .hset(
      `${base}:jobs`,
      'doomed-run-2',
      job('doomed-run-2', 'Never posted.'),
      'next-run-2',
      job('next-run-2', 'Answer to the next one.'),
      'k:doomed-run-2',
      String(Date.now() - 60_000),
      'a:doomed-run-2',
      '4',
      'g:doomed-run-2',
      'lost-notice',
    )
    .zadd(`${prefix}:chatwoot:active`, Date.now() - 60_000, `t-cw:1:1:${c}`)
    .exec();
  await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 20_000, what: 'the next answer' });
  expect(fake.posted(c)).toEqual(['Answer to the next one.']);
  await waitFor(async () => ((await redis.llen(`${base}:q`)) === 0 ? true : null), { timeoutMs: 10_000, what: 'the queue emptied' });
  expect(await redis.hget(`${base}:jobs`, 'doomed-run-2')).toBeNull();
});

test("the contact's next message gives up a head whose attempts ran out: one notice, then that message is answered", async () => {
  const c = 4244;
  const base = `${prefix}:chatwoot:{cw:t-cw:1:1:${c}}`;
  const job = JSON.stringify({
    runId: 'stuck-run-3',
    kind: 'direct',
    tenantId: 't-cw',
    agentId: null,
    address: { accountId: 1, inboxId: 1, conversationId: c, messageId: 1 },
    contactId: 42,
    text: 'hi',
    content: 'Never posted.',
    handoff: false,
  });
  // Started 3 times already and stalled again; not in the sweep's index, so the next message finds it.
  await redis
    .multi()
    .rpush(`${base}:q`, 'stuck-run-3')
    .hset(`${base}:jobs`, 'stuck-run-3', job, 'k:stuck-run-3', String(Date.now() - 60_000), 'a:stuck-run-3', '3')
    .exec();
  const res = await deliver(gws[0]!.http, bodies.attachmentOnly({ conversation: c }), { secret: SECRET });
  expect(res).toMatchObject({ status: 200, json: { outcome: 'queued' } });
  await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 20_000, what: 'the notice, then the answer' });
  expect(fake.posted(c)).toEqual([GIVE_UP_NOTICE, expect.stringContaining('I can only read text')]);
  await waitFor(async () => ((await redis.llen(`${base}:q`)) === 0 ? true : null), { timeoutMs: 10_000, what: 'the queue emptied' });
});
