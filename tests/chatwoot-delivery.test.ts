/**
 * Outbound delivery through `channel.chatwoot.send` against the real services and a fake Chatwoot:
 * retries that never post twice, refusals dead-lettered with Chatwoot's answer, long answers split,
 * hand-off to a human and back, and a burst answered in order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { listDeadLetters, uuidv7 } from '@parley/bus';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, type RunningGateway, type Services } from './support/gateway-env.js';

const SECRET = 'cw-webhook-secret-0123456789';
const API_TOKEN = 'cw-api-token-abcdef';

let prefix: string;
let db: string;
let services: Services;
let fake: FakeChatwoot;
let gw: RunningGateway;
let redis: Redis;
let conv = 500;

beforeAll(async () => {
  prefix = uniquePrefix('cwsend');
  db = await createTestDatabase();
  redis = newRedis();
  fake = await startFakeChatwoot(API_TOKEN);
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, {
    DATABASE_URL: urlForDatabase(db),
    CHATWOOT_BASE_URL: fake.url,
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    CHATWOOT_API_TOKEN: API_TOKEN,
    CHATWOOT_WEBHOOK_SECRET: SECRET,
    CHATWOOT_TENANT_ID: 't-cw',
    CHATWOOT_BACKOFF_MS: '20',
  });
});

afterAll(async () => {
  await gw?.close();
  await services?.stop();
  await fake?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const post = (body: unknown) => deliver(gw.http, body, { secret: SECRET });
const settle = () => new Promise((r) => setTimeout(r, 1_000));
const kinds = (c: number) => fake.requests.filter((r) => r.conversationId === c).map((r) => `${r.kind}:${r.status}`);
const sendDirect = (c: number, runId: string, content: string, actionId = uuidv7()) =>
  gw.gw.ctx.bus.send('channel.chatwoot.send', { runId, accountId: 1, inboxId: 1, conversationId: c, content }, { tenantId: 't-cw', actionId });

describe('retries and idempotency', () => {
  test('Chatwoot answers 500, then 201 → the message is posted once', async () => {
    const c = ++conv;
    fake.script('message', [500, 201]);
    expect((await post(bodies.incoming({ conversation: c }, 'good morning'))).json).toMatchObject({ outcome: 'started' });
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 30_000, what: 'posted after a retry' });
    await settle();
    expect(kinds(c).filter((k) => k.startsWith('message'))).toEqual(['message:500', 'message:201']);
    expect(fake.posted(c)).toHaveLength(1);
  });

  test('429 with Retry-After is waited out, then posted once', async () => {
    const c = ++conv;
    fake.script('message', [429, 429]);
    await sendDirect(c, uuidv7(), 'Posted after two 429s.');
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 30_000, what: 'posted after 429s' });
    expect(kinds(c).filter((k) => k.startsWith('message'))).toEqual(['message:429', 'message:429', 'message:200']);
  });

  test('a run that cannot start (unknown agent) still gets the contact a short apology, and the queue moves on', async () => {
    const c = ++conv;
    const other = await startGateway(prefix, {
      DATABASE_URL: urlForDatabase(db),
      CHATWOOT_BASE_URL: fake.url,
      OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
      CHATWOOT_API_TOKEN: API_TOKEN,
      CHATWOOT_WEBHOOK_SECRET: SECRET,
      CHATWOOT_TENANT_ID: 't-cw',
      CHATWOOT_AGENT_ID: 'nobody-here',
    });
    try {
      await deliver(other.http, bodies.incoming({ conversation: c }, 'first'), { secret: SECRET });
      expect((await deliver(other.http, bodies.incoming({ conversation: c }, 'second'), { secret: SECRET })).json).toMatchObject({ outcome: 'queued' });
      await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 30_000, what: 'two apologies' });
      expect(fake.posted(c).every((p) => p.startsWith('Sorry, I could not answer'))).toBe(true);
    } finally {
      await other.close();
    }
  });

  test('a send delivered again for the same run posts nothing more', async () => {
    const c = ++conv;
    const runId = uuidv7();
    await sendDirect(c, runId, 'First and only answer.');
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 15_000, what: 'first delivery' });
    await sendDirect(c, runId, 'First and only answer.');
    await settle();
    await settle();
    expect(fake.posted(c)).toEqual(['First and only answer.']);
  });

  test('401 from Chatwoot → dead letter carrying the response body; the next message is still answered', async () => {
    const c = ++conv;
    fake.script('message', [401], '{"error":"Invalid Access Token"}');
    await post(bodies.incoming({ conversation: c }, 'first words'));
    const dead = await waitFor(async () => (await listDeadLetters(redis, prefix, 'gateway', 50)).find((d) => d.raw.includes(`"conversationId":${c}`)), {
      timeoutMs: 30_000,
      what: 'dead letter',
    });
    expect(dead.type).toBe('channel.chatwoot.send');
    expect(dead.reason).toContain('401');
    expect(dead.reason).toContain('Invalid Access Token');
    expect(dead.reason).not.toContain(API_TOKEN);
    expect(kinds(c).filter((k) => k.startsWith('message'))).toEqual(['message:401']);
    await post(bodies.incoming({ conversation: c }, 'second words'));
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 30_000, what: 'next answer' });
    expect(fake.posted(c)[0]).toContain('second words');
  });

  test('a long answer is split at sentence ends within 4096 characters', async () => {
    const c = ++conv;
    const sentence = (i: number) => `Sentence number ${i} explains one more detail of the plan.`;
    const text = Array.from({ length: 200 }, (_, i) => sentence(i)).join(' ');
    await sendDirect(c, uuidv7(), text);
    await waitFor(() => fake.posted(c).length >= 3 || null, { timeoutMs: 15_000, what: 'three parts' });
    const parts = fake.posted(c);
    expect(parts.every((p) => p.length <= 4096 && p.endsWith('.'))).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });
});

describe('hand-off to a human', () => {
  test('the agent calls handoff_to_human: answer posted, conversation opened, bot silent until pending again', async () => {
    const c = ++conv;
    await post(bodies.incoming({ conversation: c }, 'my order is broken [[tool:handoff_to_human]]'));
    await waitFor(() => fake.status(c) === 'open' || null, { timeoutMs: 30_000, what: 'conversation opened' });
    expect(kinds(c)).toEqual(['typing:200', 'message:200', 'typing:200', 'status:200']);
    expect(fake.requests.find((r) => r.conversationId === c && r.kind === 'status')?.body).toEqual({ status: 'open' });

    // A delivery still saying `pending` (sent before Chatwoot saw the toggle) is not answered; nor is an open one.
    expect((await post(bodies.incoming({ conversation: c, status: 'pending' }, 'hello?'))).json).toMatchObject({ outcome: 'handed_off' });
    expect((await post(bodies.incoming({ conversation: c, status: 'open' }, 'anyone?'))).json).toMatchObject({ outcome: 'ignored' });
    expect((await post(bodies.outgoingFromAgent({ conversation: c, status: 'open' }, 'Hi, Lee here.'))).json).toMatchObject({ outcome: 'ignored' });
    await settle();
    expect(fake.posted(c)).toHaveLength(1);

    // The agent gives it back.
    expect((await post(bodies.conversationPending({ conversation: c }))).json).toMatchObject({ outcome: 'resumed' });
    expect((await post(bodies.incoming({ conversation: c, status: 'pending' }, 'back to the bot'))).json).toMatchObject({ outcome: 'started' });
    await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 30_000, what: 'bot answers again' });
    expect(fake.posted(c)[1]).toContain('back to the bot');
  });

  test('an agent opening the conversation drops the messages still queued behind the one being answered', async () => {
    const c = ++conv;
    await post(bodies.incoming({ conversation: c }, 'first question [[slow:200]] [[tokens:10]]'));
    for (const i of [2, 3, 4]) expect((await post(bodies.incoming({ conversation: c }, `queued line ${i}`))).json).toMatchObject({ outcome: 'queued' });
    expect((await post(bodies.conversationOpen({ conversation: c }))).json).toMatchObject({ outcome: 'released' });
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 30_000, what: 'the in-flight answer' });
    await settle();
    await settle();
    expect(fake.posted(c)).toHaveLength(1);
  });

  test('a contact asking for a person gets the hand-off note and an open conversation, without a run', async () => {
    const c = ++conv;
    expect((await post(bodies.incoming({ conversation: c }, 'Can I talk to a real person please?'))).json).toMatchObject({ outcome: 'started' });
    await waitFor(() => fake.status(c) === 'open' || null, { timeoutMs: 15_000, what: 'opened' });
    expect(fake.posted(c)).toHaveLength(1);
    expect(fake.posted(c)[0]).toMatch(/person from our team/);
    // No run took this turn; the gateway saved it, so the Parley transcript is complete.
    const history = await waitFor(
      async () => {
        const h = await gw.gw.ctx.bus.call('conversation.get_history', { conversationId: `cw:1:1:${c}`, limit: 10 }, { tenantId: 't-cw' });
        return h.messages.length === 2 ? h : null;
      },
      { timeoutMs: 15_000, what: 'saved turn' },
    );
    expect(history.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Can I talk to a real person please?'],
      ['assistant', fake.posted(c)[0]],
    ]);
  });
});

describe('ordering', () => {
  test('a burst of 20 messages from one contact is answered in order', async () => {
    const c = ++conv;
    for (let i = 1; i <= 20; i++) {
      const res = await post(bodies.incoming({ conversation: c }, `burst line ${i}`));
      expect(res.status).toBe(200);
    }
    const posted = await waitFor(() => (fake.posted(c).length === 20 ? fake.posted(c) : null), { timeoutMs: 120_000, intervalMs: 250, what: '20 answers' });
    expect(posted.map((p) => /burst line (\d+)/.exec(p)?.[1])).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
  }, 150_000);
});
