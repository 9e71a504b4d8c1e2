/**
 * A Chatwoot inbox's baseUrl is where the gateway sends the inbox's API token and the contacts'
 * messages, and it is a tenant admin's input: saving one that points at the platform's own network
 * (metadata, loopback, private) is a 400 naming baseUrl, unless the operator allow-lists it; a stored
 * one (written before this check, or by hand) is refused at connect time and dead-lettered, and the
 * token never leaves.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { listDeadLetters, uuidv7 } from '@parley/bus';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

const PATH = '/api/v1/channels/chatwoot/inboxes';
const TENANT = 't-url';
const API_TOKEN = 'cw-url-api-token-0123456789';
const INBOX_TOKEN = 'cw-url-inbox-token-0123456789abcdef';

let db: string;
let redis: Redis;
let fake: FakeChatwoot;
let services: Services;
let strictPrefix: string;
let trustPrefix: string;
let strict: RunningGateway;
let trusting: RunningGateway;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = newRedis();
  fake = await startFakeChatwoot(API_TOKEN);
  strictPrefix = uniquePrefix('cwurl');
  trustPrefix = uniquePrefix('cwurlok');
  // A row saved before baseUrl was checked, pointing at a local service (the fake stands in for Redis, metadata…).
  const client = new pg.Client({ connectionString: urlForDatabase(db) });
  await client.connect();
  await client.query(`INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [TENANT]);
  await client.query(
    `INSERT INTO chatwoot_inboxes (account_id, inbox_id, tenant_id, base_url, api_token, webhook_secret, inbox_token) VALUES (31, 1, $1, $2, $3, NULL, $4)`,
    [TENANT, fake.url, API_TOKEN, INBOX_TOKEN],
  );
  await client.end();
  services = await startServices(trustPrefix, urlForDatabase(db));
  strict = await startGateway(strictPrefix, { DATABASE_URL: urlForDatabase(db) });
  trusting = await startGateway(trustPrefix, { DATABASE_URL: urlForDatabase(db), OUTBOUND_ALLOW_HOSTS: '127.0.0.1', CHATWOOT_BACKOFF_MS: '20' });
});

afterAll(async () => {
  await strict?.close();
  await trusting?.close();
  await services?.stop();
  await fake?.close();
  await deletePrefix(redis, strictPrefix);
  await deletePrefix(redis, trustPrefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const admin = token({ sub: 'boss', tenant: TENANT, roles: ['admin'] });
const put = async (gw: RunningGateway, body: unknown) => {
  const res = await fetch(`${gw.http}${PATH}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const listed = async (gw: RunningGateway) => {
  const res = await fetch(`${gw.http}${PATH}`, { headers: { authorization: `Bearer ${admin}` } });
  return ((await res.json()) as { inboxes: Array<{ accountId: number; baseUrl: string }> }).inboxes;
};

describe('saving an inbox', () => {
  test.each([
    ['http://169.254.169.254', 'linkLocal'],
    ['http://127.0.0.1:6379', 'loopback'],
    ['http://10.0.0.1', 'private'],
    ['http://[::1]:3000', 'loopback'],
    ['http://[::ffff:127.0.0.1]:6379', 'loopback'],
    ['http://2130706433:6379', 'loopback'],
    ['http://localhost:6379', 'resolves to a loopback address'],
  ])('baseUrl %s → 400 naming baseUrl (%s); nothing is stored', async (baseUrl, why) => {
    const res = await put(strict, { accountId: 32, inboxId: 1, baseUrl, apiToken: API_TOKEN, inboxToken: INBOX_TOKEN });
    expect(res.status).toBe(400);
    expect((res.json['error'] as { code?: string } | undefined)?.code).toBe('invalid_payload');
    expect(String((res.json['error'] as { message?: string } | undefined)?.message)).toContain('baseUrl');
    expect(String((res.json['error'] as { message?: string } | undefined)?.message)).toContain(why);
    expect(JSON.stringify(res.json)).not.toContain(API_TOKEN);
    expect((await listed(strict)).some((i) => i.accountId === 32)).toBe(false);
  });

  test('the operator can allow a host: the same local URL is saved, and answers reach it', async () => {
    const res = await put(trusting, { accountId: 33, inboxId: 1, baseUrl: fake.url, apiToken: API_TOKEN, inboxToken: INBOX_TOKEN });
    expect(res.status).toBe(200);
    const conversation = 3301;
    const sent = await deliver(trusting.http, bodies.incoming({ account: 33, inbox: 1, conversation }, 'hello, what do you do?'), {
      query: `?token=${INBOX_TOKEN}`,
    });
    expect(sent).toMatchObject({ status: 200, json: { outcome: 'started' } });
    await waitFor(() => fake.posted(conversation).length === 1 || null, { timeoutMs: 30_000, what: 'the answer at the allowed host' });
  });
});

test('a stored baseUrl at a refused address is refused at connect time: dead-lettered, and the token never sent', async () => {
  await waitFor(async () => (await listed(strict)).some((i) => i.accountId === 31) || null, { timeoutMs: 10_000, what: 'the stored row loaded' });
  const before = fake.requests.length;
  await strict.gw.ctx.bus.send(
    'channel.chatwoot.send',
    { runId: uuidv7(), accountId: 31, inboxId: 1, conversationId: 3101, content: 'an answer' },
    { tenantId: TENANT, actionId: uuidv7() },
  );
  const dead = await waitFor(async () => (await listDeadLetters(redis, strictPrefix, 'gateway', 20)).find((d) => d.raw.includes('"conversationId":3101')), {
    timeoutMs: 15_000,
    what: 'dead letter',
  });
  expect(dead).toMatchObject({ type: 'channel.chatwoot.send', code: 'refused' });
  expect(dead.reason).toContain('loopback');
  expect(dead.reason).not.toContain(API_TOKEN);
  // Nothing reached the server: not the answer, not the typing indicator, not the token.
  expect(fake.requests.length).toBe(before);
});
