/**
 * Chatwoot inbox secrets at rest: sealed with SECRETS_KEY in `chatwoot_inboxes` (read straight from
 * PostgreSQL here), opened only in the gateway's memory; rows from before encryption still work and
 * get sealed; SECRETS_KEY_PREVIOUS opens what the old key sealed; a wrong key skips the inbox, loudly
 * and once, without taking the gateway or the other inboxes down.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { listDeadLetters, uuidv7 } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';

const PATH = '/api/v1/channels/chatwoot/inboxes';
const TENANT = 't-sec';
const API_TOKEN = 'cw-secret-api-token-0123456789';
const WEBHOOK_SECRET = 'cw-secret-webhook-secret-0123456789';
const INBOX_TOKEN = 'cw-secret-inbox-token-0123456789abcdef';
const SECRETS = [API_TOKEN, WEBHOOK_SECRET, INBOX_TOKEN];
const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');
const KEY_WRONG = randomBytes(32).toString('base64url');
const KEYS = [KEY_A, KEY_B, KEY_WRONG];
/** Every inbox of this file answers with the same secrets; each test has its own account. */
const inbox = (accountId: number, extra: Record<string, unknown> = {}) => ({
  accountId,
  inboxId: 1,
  baseUrl: fake.url,
  apiToken: API_TOKEN,
  webhookSecret: WEBHOOK_SECRET,
  inboxToken: INBOX_TOKEN,
  ...extra,
});

let db: string;
let client: pg.Client;
let redis: Redis;
let fake: FakeChatwoot;
const prefixes: string[] = [];
const gateways: RunningGateway[] = [];
/** Every line any gateway of this file logged, checked for leaks at the end. */
const allLogs: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: urlForDatabase(db) });
  await client.connect();
  redis = newRedis();
  fake = await startFakeChatwoot(API_TOKEN);
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await fake?.close();
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
  await client?.end();
  await dropTestDatabase(db);
});

/** A gateway on its own bus prefix (so a send is handled by this gateway and no other), logs collected. */
async function gateway(vars: Record<string, string>): Promise<RunningGateway & { prefix: string; logs: Array<Record<string, unknown>> }> {
  const prefix = uniquePrefix('cwsec');
  prefixes.push(prefix);
  const logs: Array<Record<string, unknown>> = [];
  const g = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db), CHATWOOT_BACKOFF_MS: '20', OUTBOUND_ALLOW_HOSTS: '127.0.0.1', ...vars }, { logs });
  gateways.push(g);
  const close = g.close;
  return Object.assign(g, {
    prefix,
    logs,
    close: async () => {
      allLogs.push(...logs);
      gateways.splice(gateways.indexOf(g), 1);
      await close();
    },
  });
}

const admin = token({ sub: 'boss', tenant: TENANT, roles: ['admin'] });
async function call(gw: RunningGateway, method: 'GET' | 'PUT', body?: unknown) {
  const res = await fetch(`${gw.http}${PATH}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The row as PostgreSQL holds it. */
async function row(accountId: number): Promise<Record<string, unknown>> {
  const { rows } = await client.query('SELECT * FROM chatwoot_inboxes WHERE account_id = $1 AND inbox_id = 1', [accountId]);
  if (!rows[0]) throw new Error(`no row for ${accountId}/1`);
  return rows[0] as Record<string, unknown>;
}
const keyIdOf = (stored: unknown) => /^enc:v1:([0-9a-f]{8}):[A-Za-z0-9_-]+$/.exec(String(stored))?.[1];
function expectSealed(r: Record<string, unknown>): string {
  const text = JSON.stringify(r);
  for (const s of SECRETS) expect(text).not.toContain(s);
  const ids = [r['api_token'], r['webhook_secret'], r['inbox_token']].map(keyIdOf);
  expect(ids[0]).toBeDefined();
  expect(new Set(ids)).toEqual(new Set([ids[0]]));
  return ids[0]!;
}

/** A signed webhook, a URL-token webhook and an outbound send all use the secrets this gateway opened. */
let conversations = 1_000;
async function expectWorks(gw: RunningGateway, accountId: number) {
  const conversation = (conversations += 3);
  const signed = await deliver(gw.http, bodies.incoming({ account: accountId, inbox: 1, conversation }, 'hola'), { secret: WEBHOOK_SECRET });
  expect(signed).toMatchObject({ status: 200, json: { outcome: 'started' } });
  const viaToken = await deliver(gw.http, bodies.incoming({ account: accountId, inbox: 1, conversation: conversation + 1 }, 'hola'), {
    query: `?token=${INBOX_TOKEN}`,
  });
  expect(viaToken).toMatchObject({ status: 200, json: { outcome: 'started' } });
  const content = `answer for ${accountId} ${uuidv7()}`;
  await gw.gw.ctx.bus.send(
    'channel.chatwoot.send',
    { runId: uuidv7(), accountId, inboxId: 1, conversationId: conversation + 2, content },
    { tenantId: TENANT, actionId: uuidv7() },
  );
  await waitFor(() => fake.posted(conversation + 2).includes(content) || null, { timeoutMs: 15_000, what: `outbound for ${accountId}` });
  expect(fake.requests.find((r) => r.body['content'] === content)?.token).toBe(API_TOKEN);
}

const unreadableLines = (logs: Array<Record<string, unknown>>, accountId: number) =>
  logs.filter((l) => l['level'] === 'error' && String(l['msg']).startsWith(`chatwoot inbox ${accountId}/1 cannot be used`));

describe('chatwoot inbox secrets at rest', () => {
  let gwA: Awaited<ReturnType<typeof gateway>>;

  test('with SECRETS_KEY a PUT stores no secret in plain text; webhooks and replies use the decrypted values', async () => {
    gwA = await gateway({ SECRETS_KEY: KEY_A });
    expect((await call(gwA, 'PUT', inbox(11))).status).toBe(200);
    expectSealed(await row(11));
    await expectWorks(gwA, 11);
    // The agent.run carries the stored inbox's tenant: the row was opened, not mistaken for another.
    const entries = await redis.xrange(busKeys.stream(gwA.prefix, 'agent'), '-', '+');
    expect(JSON.parse(entries.at(-1)?.[1][1] ?? '{}')).toMatchObject({ type: 'agent.run', tenantId: TENANT });
    const listed = (await call(gwA, 'GET')).json['inboxes'] as unknown[];
    expect(listed).toEqual([expect.objectContaining({ accountId: 11, apiTokenSet: true, webhookSecretSet: true, inboxTokenSet: true })]);
    expect(listed[0]).not.toHaveProperty('secretsUnreadable');
    expect(gwA.logs.filter((l) => String(l['msg']).includes('SECRETS_KEY is not set'))).toEqual([]);
  });

  test('a plain-text row from before keeps working and is encrypted by the next save, which keeps omitted secrets', async () => {
    await client.query(`INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [TENANT]);
    await client.query(
      `INSERT INTO chatwoot_inboxes (account_id, inbox_id, tenant_id, base_url, api_token, webhook_secret, inbox_token) VALUES (12, 1, $1, $2, $3, $4, $5)`,
      [TENANT, fake.url, API_TOKEN, WEBHOOK_SECRET, INBOX_TOKEN],
    );
    // Written behind the running gateway's back: it is picked up by the next refresh (every 5 s).
    await waitFor(async () => ((await call(gwA, 'GET')).json['inboxes'] as Array<{ accountId: number }>).some((i) => i.accountId === 12) || null, {
      timeoutMs: 10_000,
      what: 'plain-text row loaded',
    });
    expect((await row(12))['api_token']).toBe(API_TOKEN);
    await expectWorks(gwA, 12);
    const saved = await call(gwA, 'PUT', { accountId: 12, inboxId: 1, baseUrl: fake.url, answerStatuses: ['pending', 'open'] });
    expect(saved.json['inboxes']).toEqual([
      expect.objectContaining({ apiTokenSet: true, webhookSecretSet: true, inboxTokenSet: true, answerStatuses: ['pending', 'open'] }),
    ]);
    expectSealed(await row(12));
    await expectWorks(gwA, 12);
  });

  test('without a key (dev mode) secrets stay plain with one warning; the first start with a key encrypts them', async () => {
    const dev = await gateway({});
    expect(dev.logs.filter((l) => l['level'] === 'warn' && String(l['msg']).startsWith('SECRETS_KEY is not set'))).toHaveLength(1);
    expect((await call(dev, 'PUT', inbox(13))).status).toBe(200);
    expect((await row(13))['api_token']).toBe(API_TOKEN);
    await dev.close();

    const upgraded = await gateway({ SECRETS_KEY: KEY_A });
    expect(expectSealed(await row(13))).toBe(keyIdOf((await row(11))['api_token']));
    expect(upgraded.logs).toContainEqual(
      expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^encrypted the stored secrets of \d+ chatwoot inbox/) }),
    );
    await expectWorks(upgraded, 13);
    await upgraded.close();
  });

  test('rotation: rows sealed with the previous key work with SECRETS_KEY_PREVIOUS and are sealed again with the new key; a replica still on the old key keeps answering', async () => {
    const idA = keyIdOf((await row(11))['api_token']);
    const rotated = await gateway({ SECRETS_KEY: KEY_B, SECRETS_KEY_PREVIOUS: KEY_A });
    const idB = expectSealed(await row(11));
    expect(idB).not.toBe(idA);
    for (const account of [11, 12, 13]) expect(expectSealed(await row(account))).toBe(idB);
    await expectWorks(rotated, 11);
    // gwA (KEY_A only) can no longer open the rows, but keeps the settings it had read: no outage mid-rollout.
    await waitFor(() => unreadableLines(gwA.logs, 11).length > 0 || null, { timeoutMs: 10_000, what: 'the old replica notices the rotation' });
    expect(unreadableLines(gwA.logs, 11)[0]?.['msg']).toContain('this gateway keeps the settings it read before');
    await expectWorks(gwA, 11);
    await gwA.close();
    await rotated.close();
  });

  test('a wrong key skips that inbox with one error, without crashing; other inboxes and the env default keep working', async () => {
    const wrong = await gateway({
      SECRETS_KEY: KEY_WRONG,
      CHATWOOT_BASE_URL: fake.url,
      CHATWOOT_API_TOKEN: API_TOKEN,
      CHATWOOT_WEBHOOK_SECRET: 'env-default-secret-0123456789',
      CHATWOOT_TENANT_ID: 't-env',
    });
    const lines = unreadableLines(wrong.logs, 11);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ accountId: 11, inboxId: 1, tenantId: TENANT, reason: 'unknown_key' });
    expect(lines[0]?.['msg']).toMatch(
      /the stored apiToken: the stored secret was encrypted with key [0-9a-f]{8}, but the current key is [0-9a-f]{8} and no previous key is set; the inbox is skipped until/,
    );

    // An inbox saved through this gateway works; the unreadable one is refused, not answered by the env default.
    expect((await call(wrong, 'PUT', inbox(14))).status).toBe(200);
    await expectWorks(wrong, 14);
    expect(
      (await deliver(wrong.http, bodies.incoming({ account: 1, inbox: 1, conversation: 77 }, 'hola'), { secret: 'env-default-secret-0123456789' })).json,
    ).toMatchObject({ outcome: 'started' });
    expect(
      (await deliver(wrong.http, bodies.incoming({ account: 11, inbox: 1, conversation: 78 }, 'hola'), { secret: 'env-default-secret-0123456789' })).status,
    ).toBe(401);
    expect((await deliver(wrong.http, bodies.incoming({ account: 11, inbox: 1, conversation: 78 }, 'hola'), { secret: WEBHOOK_SECRET })).status).toBe(401);
    await wrong.gw.ctx.bus.send(
      'channel.chatwoot.send',
      { runId: uuidv7(), accountId: 11, inboxId: 1, conversationId: 79, content: 'lost' },
      { tenantId: TENANT, actionId: uuidv7() },
    );
    const dead = await waitFor(async () => (await listDeadLetters(redis, wrong.prefix, 'gateway', 20)).find((d) => d.raw.includes('"conversationId":79')), {
      timeoutMs: 15_000,
      what: 'dead letter',
    });
    expect(dead.reason).toContain('its stored secrets cannot be decrypted');

    const listed = (await call(wrong, 'GET')).json['inboxes'] as Array<Record<string, unknown>>;
    expect(listed.find((i) => i['accountId'] === 11)).toMatchObject({ tenantId: TENANT, baseUrl: fake.url, secretsUnreadable: true, apiTokenSet: true });
    expect(listed.find((i) => i['accountId'] === 14)).not.toHaveProperty('secretsUnreadable');

    // A save that omits the unreadable secrets cannot keep them: it says which to send again.
    const partial = await call(wrong, 'PUT', { accountId: 11, inboxId: 1, baseUrl: fake.url, enabled: true });
    expect(partial.status).toBe(409);
    expect((partial.json['error'] as { message?: string } | undefined)?.message).toMatch(/chatwoot inbox 11\/1: the stored apiToken: .*; send apiToken again/);

    // Logged once, not at every refresh (every 5 s).
    await new Promise((r) => setTimeout(r, 5_500));
    expect(unreadableLines(wrong.logs, 11)).toHaveLength(1);

    // Re-entering the secrets brings it back.
    expect((await call(wrong, 'PUT', inbox(11))).status).toBe(200);
    expect(((await call(wrong, 'GET')).json['inboxes'] as Array<Record<string, unknown>>).find((i) => i['accountId'] === 11)).not.toHaveProperty(
      'secretsUnreadable',
    );
    await expectWorks(wrong, 11);
    await wrong.close();
  });

  test('no log line of any gateway holds a secret, a key or a ciphertext', async () => {
    await Promise.all([...gateways].map((g) => g.close()));
    const text = JSON.stringify(allLogs);
    expect(allLogs.length).toBeGreaterThan(10);
    for (const s of [...SECRETS, ...KEYS]) expect(text).not.toContain(s);
    expect(text).not.toContain('enc:v1:');
  });
});
