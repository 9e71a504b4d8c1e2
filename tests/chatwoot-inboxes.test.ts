/**
 * Inbox configuration through GET/PUT /api/v1/channels/chatwoot/inboxes: admin only, validated when
 * saved, secrets write-only, and a stored inbox is what the webhook checks and maps to its tenant.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { busKeys } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase } from '@parley/testing';
import type { Redis } from 'ioredis';
import { bodies, deliver } from './support/fake-chatwoot.js';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';

const PATH = '/api/v1/channels/chatwoot/inboxes';
const INBOX_TOKEN = 'stored-inbox-token-0123456789abcdef';
const API_TOKEN = 'stored-api-token-0123456789';

let prefix: string;
let db: string;
let gw: RunningGateway;
let redis: Redis;

beforeAll(async () => {
  prefix = uniquePrefix('cwinbox');
  db = await createTestDatabase();
  redis = newRedis();
  gw = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db) });
});

afterAll(async () => {
  await gw?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const admin = token({ sub: 'boss', tenant: 't-inbox', roles: ['admin'] });
const call = async (method: 'GET' | 'PUT', body?: unknown, bearer = admin) => {
  const res = await fetch(`${gw.http}${PATH}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('chatwoot inbox configuration', () => {
  test('admin only', async () => {
    expect((await call('GET', undefined, token({ sub: 'u', tenant: 't-inbox' }))).status).toBe(403);
    expect((await fetch(`${gw.http}${PATH}`)).status).toBe(401);
  });

  test('validated when saved: no webhook check, a bad URL, a short token → 400', async () => {
    const base = { accountId: 7, inboxId: 3, baseUrl: 'https://chat.example.com', apiToken: API_TOKEN };
    const none = await call('PUT', base);
    expect(none.status).toBe(400);
    expect(String((none.json['error'] as { message?: string } | undefined)?.message)).toContain('webhookSecret or inboxToken');
    expect((await call('PUT', { ...base, inboxToken: INBOX_TOKEN, baseUrl: 'ftp://x' })).status).toBe(400);
    const short = await call('PUT', { ...base, inboxToken: 'short' });
    expect(short.status).toBe(400);
    expect(String((short.json['error'] as { message?: string } | undefined)?.message)).toContain('inboxToken');
    expect((await call('GET')).json).toEqual({ inboxes: [] });
  });

  test('secrets are write-only; an omitted secret keeps its value; another tenant cannot take the inbox', async () => {
    const put = await call('PUT', {
      accountId: 7,
      inboxId: 3,
      baseUrl: 'https://chat.example.com/',
      apiToken: API_TOKEN,
      inboxToken: INBOX_TOKEN,
    });
    expect(put.status).toBe(200);
    const text = JSON.stringify(put.json) + JSON.stringify((await call('GET')).json);
    expect(text).not.toContain(API_TOKEN);
    expect(text).not.toContain(INBOX_TOKEN);
    expect((await call('GET')).json['inboxes']).toEqual([
      expect.objectContaining({
        accountId: 7,
        inboxId: 3,
        tenantId: 't-inbox',
        agentId: null,
        baseUrl: 'https://chat.example.com',
        apiTokenSet: true,
        inboxTokenSet: true,
        webhookSecretSet: false,
        answerStatuses: ['pending'],
        source: 'database',
      }),
    ]);
    const again = await call('PUT', { accountId: 7, inboxId: 3, baseUrl: 'https://chat.example.com', answerStatuses: ['pending', 'open'] });
    expect(again.json['inboxes']).toEqual([expect.objectContaining({ apiTokenSet: true, inboxTokenSet: true, answerStatuses: ['pending', 'open'] })]);
    const thief = await call(
      'PUT',
      { accountId: 7, inboxId: 3, baseUrl: 'https://evil.example.com', apiToken: 'x'.repeat(12), inboxToken: 'y'.repeat(30) },
      token({ sub: 'm', tenant: 't-other', roles: ['admin'] }),
    );
    expect(thief.status).toBe(409);
  });

  // The inbox's agent binding (checked against agent-execution when saved) is tested in gateway-agents.test.ts.
  test('a stored inbox checks its own token and maps to its tenant and conversation', async () => {
    const w = { account: 7, inbox: 3, conversation: 900 };
    expect((await deliver(gw.http, bodies.incoming(w, 'hola'), { query: '?token=wrong-token' })).status).toBe(401);
    expect((await deliver(gw.http, bodies.incoming({ ...w, inbox: 4 }, 'hola'), { query: `?token=${INBOX_TOKEN}` })).status).toBe(401);
    const ok = await deliver(gw.http, bodies.incoming(w, 'hola'), { query: `?token=${INBOX_TOKEN}` });
    expect(ok).toMatchObject({ status: 200, json: { outcome: 'started' } });
    const entries = await redis.xrange(busKeys.stream(prefix, 'agent'), '-', '+');
    const action = JSON.parse(entries.at(-1)?.[1][1] ?? '{}') as Record<string, unknown>;
    expect(action).toMatchObject({ type: 'agent.run', tenantId: 't-inbox' });
    expect(action['data']).not.toHaveProperty('agentId');
    expect(action['data']).toMatchObject({
      channel: 'chatwoot',
      conversationId: 'cw:7:3:900',
      input: { text: 'hola', chatwoot: { accountId: 7, inboxId: 3, conversationId: 900 } },
    });
  });
});
