/**
 * Chatwoot state is the inbox's, and so its tenant's: two tenants whose Chatwoot installations use
 * the same account, conversation and message ids (each installation numbers its own from 1) never
 * touch each other. Tenant B cannot have tenant A's message dropped as a duplicate by sending the
 * same message id first, nor silence A's bot by asking for a person in "the same" conversation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listDeadLetters, uuidv7 } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

const PATH = '/api/v1/channels/chatwoot/inboxes';
const ACCOUNT = 1;
/** Tenant A's and tenant B's inboxes: same Chatwoot account id, each in its own installation. */
const A = { tenant: 't-iso-a', inbox: 10, apiToken: 'cw-iso-a-api-token-0123', inboxToken: 'cw-iso-a-inbox-token-0123456789ab' };
const B = { tenant: 't-iso-b', inbox: 20, apiToken: 'cw-iso-b-api-token-0123', inboxToken: 'cw-iso-b-inbox-token-0123456789ab' };

let prefix: string;
let db: string;
let redis: Redis;
let services: Services;
let gw: RunningGateway;
let fakeA: FakeChatwoot;
let fakeB: FakeChatwoot;
let conv = 500;

beforeAll(async () => {
  prefix = uniquePrefix('cwiso');
  db = await createTestDatabase();
  redis = newRedis();
  fakeA = await startFakeChatwoot(A.apiToken);
  fakeB = await startFakeChatwoot(B.apiToken);
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db), OUTBOUND_ALLOW_HOSTS: '127.0.0.1', CHATWOOT_BACKOFF_MS: '20' });
  for (const [t, fake] of [
    [A, fakeA],
    [B, fakeB],
  ] as const) {
    const res = await fetch(`${gw.http}${PATH}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token({ sub: 'admin', tenant: t.tenant, roles: ['admin'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accountId: ACCOUNT, inboxId: t.inbox, baseUrl: fake.url, apiToken: t.apiToken, inboxToken: t.inboxToken }),
    });
    expect(res.status).toBe(200);
  }
});

afterAll(async () => {
  await gw?.close();
  await services?.stop();
  await fakeA?.close();
  await fakeB?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const send = (t: typeof A, body: unknown) => deliver(gw.http, body, { query: `?token=${t.inboxToken}` });
const where = (t: typeof A, conversation: number) => ({ account: ACCOUNT, inbox: t.inbox, conversation });
const runsOf = async (conversationId: string) =>
  (await redis.xrange(busKeys.stream(prefix, 'agent'), '-', '+'))
    .map(([, f]) => JSON.parse(f[1] ?? '{}') as { type: string; tenantId: string; data?: { conversationId?: string } })
    .filter((a) => a.type === 'agent.run' && a.data?.conversationId === conversationId);

describe('two tenants, same Chatwoot ids', () => {
  test("B sending A's message id first does not get A's real message dropped as a duplicate", async () => {
    const c = ++conv;
    const messageId = 777_000 + c;
    expect(await send(B, bodies.incoming(where(B, c), 'hello from tenant B', messageId))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    expect(await send(A, bodies.incoming(where(A, c), 'hello from tenant A', messageId))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    // Each contact gets its own answer, in its own installation only.
    await waitFor(() => (fakeA.posted(c).length === 1 && fakeB.posted(c).length === 1) || null, { timeoutMs: 30_000, what: 'both answers' });
    expect(fakeA.posted(c)[0]).toContain('tenant A');
    expect(fakeB.posted(c)[0]).toContain('tenant B');
    // Two conversations, each its tenant's, named by inbox.
    expect(await runsOf(`cw:${ACCOUNT}:${A.inbox}:${c}`)).toEqual([expect.objectContaining({ tenantId: A.tenant })]);
    expect(await runsOf(`cw:${ACCOUNT}:${B.inbox}:${c}`)).toEqual([expect.objectContaining({ tenantId: B.tenant })]);
    // Within one inbox the same message is still a duplicate.
    expect(await send(A, bodies.incoming(where(A, c), 'hello from tenant A', messageId))).toMatchObject({ status: 200, json: { outcome: 'duplicate' } });
  });

  test("B's contact asking for a person silences B's bot only; A's contact in the same-numbered conversation is answered", async () => {
    const c = ++conv;
    expect(await send(B, bodies.incoming(where(B, c), 'quiero hablar con una persona'))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    await waitFor(() => (fakeB.status(c) === 'open' && fakeB.posted(c).length === 1) || null, { timeoutMs: 30_000, what: "B's hand-off" });
    // B's conversation is a human's now …
    expect(await send(B, bodies.incoming(where(B, c), 'hello?'))).toMatchObject({ status: 200, json: { outcome: 'handed_off' } });
    // … A's is not.
    expect(await send(A, bodies.incoming(where(A, c), 'what do you sell?'))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    await waitFor(() => fakeA.posted(c).length === 1 || null, { timeoutMs: 30_000, what: "A's answer" });
    expect(fakeA.posted(c)[0]).toContain('what do you sell');
    expect(fakeA.status(c)).toBe('pending');
  });

  test("an agent opening B's conversation drops B's queued messages, not A's", async () => {
    const c = ++conv;
    // A's contact writes three messages: the first is answered while the next two wait behind it.
    for (const text of ['one from A', 'two from A', 'three from A']) expect((await send(A, bodies.incoming(where(A, c), text))).status).toBe(200);
    expect(await send(B, bodies.conversationOpen(where(B, c)))).toMatchObject({ status: 200, json: { outcome: 'released' } });
    await waitFor(() => fakeA.posted(c).length === 3 || null, { timeoutMs: 60_000, what: "all of A's answers" });
    expect(fakeA.posted(c).map((p) => p.match(/one|two|three/)?.[0])).toEqual(['one', 'two', 'three']);
  });

  test("an answer carrying B's tenant is never posted to A's inbox: dead-lettered as not_found", async () => {
    const c = ++conv;
    await gw.gw.ctx.bus.send(
      'channel.chatwoot.send',
      { runId: uuidv7(), accountId: ACCOUNT, inboxId: A.inbox, conversationId: c, content: 'not for you' },
      { tenantId: B.tenant, actionId: uuidv7() },
    );
    const dead = await waitFor(async () => (await listDeadLetters(redis, prefix, 'gateway', 50)).find((d) => d.raw.includes(`"conversationId":${c}`)), {
      timeoutMs: 15_000,
      what: 'dead letter',
    });
    expect(dead).toMatchObject({ type: 'channel.chatwoot.send', code: 'not_found' });
    // Nothing reached A's Chatwoot about this conversation (the earlier tests' conversations may still be talking).
    expect(fakeA.requests.filter((r) => r.conversationId === c)).toEqual([]);
  });
});
