/**
 * POST /webhooks/chatwoot against the real services: who may post (signature, URL token), what is
 * answered (only a contact's public message in a bot-owned conversation), what is refused (400 with
 * the field), and duplicate deliveries (one run, one reply).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { busKeys } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newTestRedis, type TestRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, type RunningGateway, type Services } from './support/gateway-env.js';

const SECRET = 'cw-webhook-secret-0123456789';
const INBOX_TOKEN = 'cw-inbox-token-0123456789abcdef';
const API_TOKEN = 'cw-api-token-abcdef';

let prefix: string;
let db: string;
let services: Services;
let fake: FakeChatwoot;
let signed: RunningGateway;
let tokenGw: RunningGateway;
let redis: TestRedis;
let conv = 100;

beforeAll(async () => {
  prefix = uniquePrefix('cwhook');
  db = await createTestDatabase();
  redis = newTestRedis();
  fake = await startFakeChatwoot(API_TOKEN);
  services = await startServices(prefix, urlForDatabase(db));
  const common = {
    DATABASE_URL: urlForDatabase(db),
    CHATWOOT_BASE_URL: fake.url,
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    CHATWOOT_API_TOKEN: API_TOKEN,
    CHATWOOT_TENANT_ID: 't-cw',
    CHATWOOT_BACKOFF_MS: '20',
  };
  signed = await startGateway(prefix, { ...common, CHATWOOT_WEBHOOK_SECRET: SECRET });
  tokenGw = await startGateway(prefix, { ...common, CHATWOOT_INBOX_TOKEN: INBOX_TOKEN });
});

afterAll(async () => {
  await signed?.close();
  await tokenGw?.close();
  await services?.stop();
  await fake?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const agentActions = () => redis.xlen(busKeys.stream(prefix, 'agent'));
const settle = () => new Promise((r) => setTimeout(r, 1_000));

describe('who may post', () => {
  test('a valid signature is accepted and the contact gets an answer', async () => {
    const w = { conversation: ++conv };
    const res = await deliver(signed.http, bodies.incoming(w, 'hello there, what do you do?'), { secret: SECRET });
    expect(res).toMatchObject({ status: 200, json: { outcome: 'started' } });
    // Typing off follows the message: wait for all three calls, not just the answer.
    const calls = await waitFor(
      () => {
        const mine = fake.requests.filter((r) => r.conversationId === w.conversation);
        return mine.length >= 3 ? mine : null;
      },
      { timeoutMs: 30_000, what: 'typing on, answer, typing off' },
    );
    expect(fake.posted(w.conversation)[0]?.length).toBeGreaterThan(0);
    expect(calls.map((r) => r.kind)).toEqual(['typing', 'message', 'typing']);
    expect(calls[0]?.body).toEqual({ typing_status: 'on' });
    expect(calls[1]?.body).toMatchObject({ message_type: 'outgoing', private: false });
    expect(calls.every((r) => r.token === API_TOKEN)).toBe(true);
  });

  test.each([
    ['wrong signature', { secret: SECRET, signature: `sha256=${'0'.repeat(64)}` }],
    ['signed with another secret', { secret: 'another-secret-0123456789' }],
    ['missing signature', {}],
    ['stale timestamp (6 minutes)', { secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 360 }],
    ['body altered by one byte after signing', { secret: SECRET, tamper: (raw: Buffer) => Buffer.from(raw.toString().replace('pay me', 'pay mE')) }],
    ['a URL token where a signature is configured', { query: `?token=${INBOX_TOKEN}` }],
  ])('%s → 401 and nothing else happens', async (_name, opts) => {
    const w = { conversation: ++conv };
    const before = await agentActions();
    const res = await deliver(signed.http, bodies.incoming(w, 'please pay me back'), opts);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { code: 'unauthorized', requestId: expect.any(String) } });
    expect(JSON.stringify(res.json)).not.toContain(SECRET);
    // The same message, now properly signed, is not a duplicate: the refused one left no trace.
    expect(await agentActions()).toBe(before);
    expect(fake.requests.some((r) => r.conversationId === w.conversation)).toBe(false);
  });

  test('URL token mode: the right token is accepted, a wrong or missing one is 401', async () => {
    const w = { conversation: ++conv };
    expect((await deliver(tokenGw.http, bodies.incoming(w, 'hi'), { query: '?token=nope' })).status).toBe(401);
    expect((await deliver(tokenGw.http, bodies.incoming(w, 'hi'))).status).toBe(401);
    const ok = await deliver(tokenGw.http, bodies.incoming(w, 'hi from an old install'), { query: `?token=${INBOX_TOKEN}` });
    expect(ok).toMatchObject({ status: 200, json: { outcome: 'started' } });
    await waitFor(() => fake.posted(w.conversation).length === 1 || null, { timeoutMs: 30_000, what: 'answer in token mode' });
  });
});

describe('what is answered', () => {
  test.each([
    ['outgoing message from the bot', (w: { conversation: number }) => bodies.outgoingFromBot(w, 'Here is your answer.')],
    ['outgoing message from an agent', (w: { conversation: number }) => bodies.outgoingFromAgent(w, 'Hi, Lee here.')],
    ['private note', (w: { conversation: number }) => bodies.privateNote(w, 'customer is VIP')],
    ['message_updated', (w: { conversation: number }) => bodies.messageUpdated(w, 'edited text')],
    ['conversation opened by an agent (queued messages released)', (w: { conversation: number }) => bodies.conversationOpen(w)],
    ['contact message in an open (human) conversation', (w: { conversation: number }) => bodies.incoming({ ...w, status: 'open' }, 'anyone there?')],
    ['an event the gateway does not know', () => ({ event: 'webwidget_triggered', id: 1, account: { id: 1 }, inbox: { id: 1 } })],
  ])('%s → 200, not answered', async (name, make) => {
    const w = { conversation: ++conv };
    const before = await agentActions();
    const res = await deliver(signed.http, make(w), { secret: SECRET });
    expect(res).toMatchObject({ status: 200, json: { outcome: name.includes('released') ? 'released' : 'ignored' } });
    await settle();
    expect(await agentActions()).toBe(before);
    expect(fake.requests.some((r) => r.conversationId === w.conversation)).toBe(false);
  });

  test('unknown fields pass; a missing required field is 400 naming it', async () => {
    const w = { conversation: ++conv };
    const body = { ...bodies.incoming(w, 'hello'), brand_new_field: { nested: true } } as Record<string, unknown>;
    const { conversation: _c, ...withoutConversation } = body;
    const bad = await deliver(signed.http, withoutConversation, { secret: SECRET });
    expect(bad.status).toBe(400);
    expect((bad.json['error'] as { message?: string } | undefined)?.message).toContain('conversation');
    const noStatus = { ...body, conversation: { ...(body['conversation'] as object), status: undefined } };
    const bad2 = await deliver(signed.http, noStatus, { secret: SECRET });
    expect(bad2.status).toBe(400);
    expect((bad2.json['error'] as { message?: string } | undefined)?.message).toContain('conversation.status');
    expect((await deliver(signed.http, body, { secret: SECRET })).json).toMatchObject({ outcome: 'started' });
  });

  test('attachment-only message → a polite text answer, no run', async () => {
    const w = { conversation: ++conv };
    const before = await agentActions();
    expect((await deliver(signed.http, bodies.attachmentOnly(w, 'audio'), { secret: SECRET })).json).toMatchObject({ outcome: 'started' });
    const posted = await waitFor(() => fake.posted(w.conversation)[0], { timeoutMs: 15_000, what: 'polite answer' });
    expect(posted).toContain('voice message');
    expect(posted).toMatch(/text/);
    expect(await agentActions()).toBe(before);
  });
});

describe('duplicates', () => {
  test('a conversation event naming neither account nor inbox changes nothing (it cannot say whose conversation it is)', async () => {
    const res = await deliver(signed.http, { event: 'conversation_status_changed', id: ++conv, status: 'open' }, { secret: SECRET });
    expect(res).toMatchObject({ status: 200, json: { outcome: 'ignored' } });
  });

  test('the same delivery twice, and the same message under a new delivery id → one run, one reply', async () => {
    const w = { conversation: ++conv };
    const body = bodies.incoming(w, 'thanks, see you tomorrow');
    const before = await agentActions();
    const [a, b] = await Promise.all([
      deliver(signed.http, body, { secret: SECRET, delivery: 'dlv-1' }),
      deliver(tokenGw.http, body, { query: `?token=${INBOX_TOKEN}`, delivery: 'dlv-1' }),
    ]);
    const c = await deliver(signed.http, body, { secret: SECRET, delivery: 'dlv-2' });
    expect([a.json['outcome'], b.json['outcome'], c.json['outcome']].sort()).toEqual(['duplicate', 'duplicate', 'started']);
    await waitFor(() => fake.posted(w.conversation).length === 1 || null, { timeoutMs: 30_000, what: 'one answer' });
    await settle();
    expect(fake.posted(w.conversation)).toHaveLength(1);
    expect((await agentActions()) - before).toBe(1);
  });
});
