/**
 * Conversations that follow the user: a socket opened without a conversation resumes the user's
 * latest open one (with its history), `new` starts a fresh one, a new conversation's welcome
 * carries the agent's greeting (kept in the transcript once it is spoken to), and
 * GET /api/v1/me/conversations lists the caller's own. Real services, an in-process gateway.
 */
import { describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { chatwootConversationId } from '@parley/contracts';
import { contactActor } from '../apps/gateway/src/auth/access.js';
import { ParleyClient } from '../packages/client/src/index.js';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { ask, wsProbe, type Frame, type WsProbe } from './support/ws-probe.js';

const platform = usePlatform('gwcont', { gateway: {} });

interface Who {
  sub: string;
  tenant?: string;
  roles?: string[];
}
const bearer = (w: Who) => token({ sub: w.sub, tenant: w.tenant ?? 't1', roles: w.roles ?? [] });

/** A socket's handshake: its welcome and the history that follows it. */
async function open(w: Who, query = ''): Promise<{ p: WsProbe; welcome: Frame; history: Frame }> {
  const p = wsProbe(`${platform.gw.ws}?token=${bearer(w)}${query}`);
  const welcome = await p.welcome;
  const history = await p.next((f) => f.type === 'history', { what: 'the handshake history' });
  return { p, welcome, history };
}

/** Says something in the socket's conversation and waits for the answer. */
async function say(p: WsProbe, text: string): Promise<void> {
  const id = `m-${Math.random().toString(36).slice(2)}`;
  const accepted = await ask(p, { type: 'chat.message', id, text: `${text} [[tokens:2]]` }, (f) => f.type === 'chat.accepted' || f.type === 'error');
  expect(accepted.type, JSON.stringify(accepted)).toBe('chat.accepted');
  await p.next((f) => (f.type === 'agent.message' || f.type === 'agent.error') && f.runId === accepted.runId, { what: 'the answer' });
}

const roles = (h: Frame) => (h.messages as Array<{ role: string }>).map((m) => m.role);

async function api<T>(w: Who, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${bearer(w)}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${platform.gw.http}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Page {
  items: Array<{ conversationId: string; title: string | null; status: string; agentId: string | null; lastActivityAt: string; userId: string | null }>;
  nextCursor: string | null;
}

describe('continuity over the chat socket', () => {
  test('a socket without a conversation resumes the latest open one with its history; new=1 and conversation.new start fresh ones', async () => {
    const ann: Who = { sub: 'cont-ann' };
    const first = await open(ann);
    expect(first.welcome).toMatchObject({ resumed: false });
    expect(first.history).toMatchObject({ messages: [] });
    await say(first.p, 'remember the blue door');
    first.p.close();

    const second = await open(ann);
    expect(second.welcome).toMatchObject({ conversationId: first.welcome.conversationId, resumed: true });
    expect(second.history.conversationId).toBe(first.welcome.conversationId);
    expect(roles(second.history)).toEqual(['user', 'assistant']);
    // conversation.new only picks an id: until it is spoken to, the latest is still the first one.
    const fresh = await ask(second.p, { type: 'conversation.new' }, (f) => f.type === 'history');
    expect(fresh).toMatchObject({ messages: [], hasMore: false });
    expect(fresh.conversationId).not.toBe(first.welcome.conversationId);
    second.p.close();
    const third = await open(ann);
    expect(third.welcome.conversationId).toBe(first.welcome.conversationId);
    third.p.close();

    const other = await open(ann, '&new=1');
    expect(other.welcome).toMatchObject({ resumed: false });
    expect(other.welcome.conversationId).not.toBe(first.welcome.conversationId);
    expect(other.history).toMatchObject({ messages: [] });
    await say(other.p, 'a second topic');
    other.p.close();
    // The newest activity wins.
    const latest = await open(ann);
    expect(latest.welcome).toMatchObject({ conversationId: other.welcome.conversationId, resumed: true });
    latest.p.close();

    // The typed client: `fresh` asks for a new conversation, and a reconnect keeps the one it has.
    const c = new ParleyClient({ url: platform.gw.ws, token: () => bearer(ann), fresh: true });
    const got = await c.connect();
    expect(got.welcome.resumed).toBe(false);
    expect([first.welcome.conversationId, other.welcome.conversationId]).not.toContain(got.welcome.conversationId);
    c.close();
  }, 60_000);

  test("another user's, another tenant's, a channel's and a closed conversation are never resumed; staff are not special", async () => {
    const bea: Who = { sub: 'cont-bea' };
    const mine = await open(bea);
    await say(mine.p, 'only mine');
    mine.p.close();
    // Newer still: a Chatwoot conversation whose contact has the same id as the user (a contact is never a user).
    const runId = `cont-cw-${Date.now()}`;
    const channel = chatwootConversationId({ accountId: 7, inboxId: 8, conversationId: Date.now() % 1_000_000 });
    await platform.gw.gw.ctx.runs.send({
      actor: contactActor('t1', 'cont-bea'),
      run: { runId, conversationId: channel, channel: 'chatwoot', input: { text: 'hola [[tokens:1]]' } },
    });
    const admin: Who = { sub: 'cont-admin', roles: ['admin'] };
    await waitFor(async () => (await api<{ status: string }>(admin, `/api/v1/runs/${runId}`)).body.status === 'SUCCEEDED', {
      timeoutMs: 30_000,
      what: 'the channel run',
    });
    expect((await api<Page>(bea, '/api/v1/me/conversations')).body.items.map((x) => x.conversationId)).toEqual([mine.welcome.conversationId]);

    for (const someone of [{ sub: 'cont-cid' }, { sub: 'cont-bea', tenant: 't2' }, admin] satisfies Who[]) {
      const s = await open(someone);
      expect(s.welcome.resumed, someone.sub).toBe(false);
      expect([mine.welcome.conversationId, channel]).not.toContain(s.welcome.conversationId);
      expect(s.history).toMatchObject({ messages: [] });
      s.p.close();
    }

    const closed = await api(admin, `/api/v1/conversations/${String(mine.welcome.conversationId)}/close`, { method: 'POST', body: {} });
    expect(closed.status).toBe(200);
    const after = await open(bea);
    expect(after.welcome.resumed).toBe(false);
    expect([mine.welcome.conversationId, channel]).not.toContain(after.welcome.conversationId);
    // Asked for by id, the closed conversation still opens with its history.
    after.p.close();
    const byId = await open(bea, `&conversationId=${String(mine.welcome.conversationId)}`);
    expect(byId.welcome.resumed).toBe(true);
    expect(roles(byId.history)).toEqual(['user', 'assistant']);
    byId.p.close();
  }, 60_000);

  test("a new conversation's welcome carries the agent's greeting, kept once in the transcript when it is spoken to", async () => {
    const tenant = 'cont-greet';
    const admin: Who = { sub: 'cont-greeter', tenant, roles: ['admin'] };
    // Before any socket of the tenant: the gateway caches a tenant's agents briefly.
    const { body } = await api<{ agents: Array<{ agentId: string }> }>(admin, '/api/v1/agents');
    const agentId = body.agents[0]!.agentId;
    expect((await api(admin, `/api/v1/agents/${agentId}`, { method: 'PUT', body: { greeting: 'Hello, I am Pat. How can I help?' } })).status).toBe(200);

    const dee: Who = { sub: 'cont-dee', tenant };
    const s = await open(dee);
    expect(s.welcome).toMatchObject({ resumed: false, greeting: 'Hello, I am Pat. How can I help?', agent: { id: agentId } });
    await say(s.p, 'hi Pat');
    await say(s.p, 'and again');
    const fresh = await ask(s.p, { type: 'conversation.new' }, (f) => f.type === 'history');
    expect(fresh.greeting).toBe('Hello, I am Pat. How can I help?');
    s.p.close();

    const back = await open(dee);
    expect(back.welcome).toMatchObject({ conversationId: s.welcome.conversationId, resumed: true });
    expect(back.welcome.greeting).toBeUndefined();
    expect(roles(back.history)).toEqual(['assistant', 'user', 'assistant', 'user', 'assistant']);
    expect((back.history.messages as Array<{ content: string }>)[0]!.content).toBe('Hello, I am Pat. How can I help?');
    back.p.close();

    // An id too long to derive the greeting's message id from: the conversation goes on without it.
    const long = `cont-${'l'.repeat(120)}`;
    const l = await open(dee, `&conversationId=${long}`);
    expect(l.welcome).toMatchObject({ resumed: false, greeting: 'Hello, I am Pat. How can I help?' });
    await say(l.p, 'a long id');
    l.p.close();
    const lBack = await open(dee, `&conversationId=${long}`);
    expect(roles(lBack.history)).toEqual(['user', 'assistant']);
    lBack.p.close();
  }, 60_000);

  test('a greeting that cannot be saved (the id was taken by another tenant meanwhile) refuses the message; nothing is written there', async () => {
    const id = `cont-race-${Date.now()}`;
    const late = await open({ sub: 'cont-hal', tenant: 'cont-greet' }, `&conversationId=${id}`);
    expect(late.welcome).toMatchObject({ resumed: false, greeting: 'Hello, I am Pat. How can I help?' });
    const first = await open({ sub: 'cont-gil' }, `&conversationId=${id}`);
    await say(first.p, 'mine now');
    first.p.close();
    const refused = await ask(late.p, { type: 'chat.message', id: 'cont-race-1', text: 'hello?' }, (f) => f.type === 'chat.accepted' || f.type === 'error');
    expect(refused).toMatchObject({ type: 'error', code: 'not_found', ref: 'cont-race-1' });
    late.p.close();
    const owner = await open({ sub: 'cont-gil' }, `&conversationId=${id}`);
    expect(roles(owner.history)).toEqual(['user', 'assistant']);
    owner.p.close();
  }, 60_000);
});

describe('GET /api/v1/me/conversations', () => {
  test("lists the caller's own conversations, newest first, paged; never another user's", async () => {
    const eve: Who = { sub: 'cont-eve' };
    const ids: string[] = [];
    for (const topic of ['apples', 'boats', 'clouds']) {
      const s = await open(eve, '&new=1');
      await say(s.p, `tell me about ${topic}`);
      ids.push(String(s.welcome.conversationId));
      s.p.close();
    }
    const intruder = await open({ sub: 'cont-fay' });
    await say(intruder.p, 'not eve');
    intruder.p.close();

    const p1 = await api<Page>(eve, '/api/v1/me/conversations?limit=2');
    expect(p1.status).toBe(200);
    expect(p1.body.items.map((x) => x.conversationId)).toEqual([ids[2], ids[1]]);
    expect(p1.body.items[0]).toMatchObject({ title: 'tell me about clouds [[tokens:2]]', status: 'open', userId: 'cont-eve' });
    expect(p1.body.items[0]!.agentId).toBeTruthy();
    expect(Date.parse(p1.body.items[0]!.lastActivityAt)).toBeGreaterThan(Date.parse(p1.body.items[1]!.lastActivityAt));
    const p2 = await api<Page>(eve, `/api/v1/me/conversations?limit=2&cursor=${encodeURIComponent(p1.body.nextCursor ?? '')}`);
    expect(p2.body).toEqual({ items: [expect.objectContaining({ conversationId: ids[0] })], nextCursor: null });

    // Staff list their own here too, not the tenant's.
    const staff = await api<Page>({ sub: 'cont-op', roles: ['operator'] }, '/api/v1/me/conversations');
    expect(staff.body.items).toEqual([]);
    const fay = await api<Page>({ sub: 'cont-fay' }, '/api/v1/me/conversations?limit=100');
    expect(fay.body.items.map((x) => x.userId)).toEqual(['cont-fay']);
    const sameNameElsewhere = await api<Page>({ sub: 'cont-eve', tenant: 't2' }, '/api/v1/me/conversations');
    expect(sameNameElsewhere.body.items).toEqual([]);
    expect((await api(eve, '/api/v1/me/conversations?cursor=garbage')).status).toBe(400);
    expect((await api(eve, '/api/v1/me/conversations?limit=1000')).status).toBe(400);
  }, 60_000);
});
