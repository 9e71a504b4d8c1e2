/**
 * Operator takeover of a web conversation across two gateway replicas: the user on replica A, the
 * operators on replica B. The bot hands off, the operator sees the waiting conversation, takes it
 * over, both write live, the operator hands back and the bot answers again; every step is in the
 * transcript. Then the refusals.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newTestRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { rawSocket, startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
let a: RunningGateway;
let b: RunningGateway;

beforeAll(async () => {
  prefix = uniquePrefix('takeover');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
  const shared = { DATABASE_URL: urlForDatabase(db) };
  [a, b] = await Promise.all([startGateway(prefix, shared), startGateway(prefix, shared)]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await services?.stop();
  const r = newTestRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

const staff = (sub: string, tenant = 't1') => token({ sub, tenant, roles: ['operator'] });

async function api(gw: RunningGateway, method: string, path: string, tok: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${gw.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${tok}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** The tenant's feed (SSE) as parsed events, from the moment it answers `: ready`. */
async function openFeed(gw: RunningGateway, tok: string): Promise<{ events: Array<Record<string, unknown>>; close(): void }> {
  const ac = new AbortController();
  const res = await fetch(`${gw.http}/api/v1/handoffs/events`, { headers: { authorization: `Bearer ${tok}` }, signal: ac.signal });
  expect(res.status).toBe(200);
  const events: Array<Record<string, unknown>> = [];
  let ready = false;
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (chunk.startsWith(': ready')) ready = true;
        if (chunk.startsWith('data: ')) events.push(JSON.parse(chunk.slice(6)) as Record<string, unknown>);
      }
    }
  })();
  await waitFor(() => ready, { what: 'the handoff feed to be ready' });
  return { events, close: () => ac.abort() };
}

const ofType = (frames: Array<Record<string, unknown>>, type: string) => frames.filter((f) => f.type === type);

describe('operator takeover of a web conversation, two replicas', () => {
  test('the user asks for a human, an operator takes over, both write live, hands back, the bot answers again', async () => {
    const user = rawSocket(`${a.ws}?token=${token({ sub: 'visitor' })}&new=1`);
    const welcome = await waitFor(() => user.frames.find((f) => f.type === 'welcome'));
    const conversationId = welcome.conversationId as string;
    const feed = await openFeed(b, staff('ana'));

    user.ws.send(JSON.stringify({ type: 'chat.message', id: 'm-1', text: 'I want to talk to a human please' }));
    await waitFor(() => user.frames.find((f) => f.type === 'agent.message'), { what: "the bot's answer", timeoutMs: 20_000 });

    // The run's hand-off reaches the queue on the other replica, live and in the list.
    await waitFor(() => feed.events.find((e) => e.type === 'state' && (e.handoff as { conversationId: string }).conversationId === conversationId), {
      what: 'the waiting state on the feed',
      timeoutMs: 10_000,
    });
    const queue = await api(b, 'GET', '/api/v1/handoffs', staff('ana'));
    expect(queue.status).toBe(200);
    expect(queue.json.waiting).toBe(1);
    expect(queue.json.items).toEqual([expect.objectContaining({ conversationId, state: 'waiting', userId: 'visitor' })]);

    // Waiting: the user's message is saved and delivered, no bot run starts.
    user.ws.send(JSON.stringify({ type: 'chat.message', id: 'm-2', text: 'hello? anyone there' }));
    await waitFor(() => user.frames.find((f) => f.type === 'chat.delivered' && f.id === 'm-2'));
    expect(ofType(user.frames, 'chat.accepted').map((f) => f.id)).toEqual(['m-1']);
    await waitFor(() => feed.events.find((e) => e.type === 'message' && (e.message as { messageId: string }).messageId === 'm-2'), {
      what: 'the user message on the feed',
    });

    // Ana takes over on B; Bruno, a second operator, is refused with her name.
    const taken = await api(b, 'POST', `/api/v1/conversations/${conversationId}/takeover`, staff('ana'));
    expect(taken.status).toBe(200);
    expect(taken.json).toMatchObject({ state: 'human', holder: { id: 'ana', name: 'ana' } });
    const second = await api(a, 'POST', `/api/v1/conversations/${conversationId}/takeover`, staff('bruno'));
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: 'conflict', details: { holder: { id: 'ana', name: 'ana' } } });
    expect((second.json.error as { message: string }).message).toContain('ana');
    await waitFor(() => user.frames.find((f) => f.type === 'agent.joined'), { what: 'agent.joined on the user socket' });
    expect(ofType(user.frames, 'agent.joined')).toEqual([{ type: 'agent.joined', conversationId, name: 'ana' }]);
    const held = await api(a, 'GET', '/api/v1/handoffs', staff('bruno'));
    expect(held.json).toMatchObject({ waiting: 0, items: [{ conversationId, state: 'human', holder: { name: 'ana' } }] });

    // Live both ways across the replicas.
    const sent = await api(b, 'POST', `/api/v1/conversations/${conversationId}/messages`, staff('ana'), { id: 'op-1', text: 'Hi, I am Ana. How can I help?' });
    expect(sent.status).toBe(201);
    const said = await waitFor(() => user.frames.find((f) => f.type === 'human.message'), { what: "ana's message on the user socket" });
    expect(said).toMatchObject({ conversationId, name: 'ana', text: 'Hi, I am Ana. How can I help?', messageId: 'op-1' });
    user.ws.send(JSON.stringify({ type: 'chat.message', id: 'm-3', text: 'my order is late' }));
    await waitFor(() => feed.events.find((e) => e.type === 'message' && (e.message as { content: string }).content === 'my order is late'), {
      what: 'the reply on ana’s feed',
    });
    expect(ofType(user.frames, 'chat.accepted')).toHaveLength(1);

    // Bruno cannot hand back what Ana holds; Ana can.
    const notHis = await api(a, 'POST', `/api/v1/conversations/${conversationId}/handback`, staff('bruno'));
    expect(notHis.status).toBe(409);
    const back = await api(b, 'POST', `/api/v1/conversations/${conversationId}/handback`, staff('ana'));
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({ state: 'bot' });
    await waitFor(() => user.frames.find((f) => f.type === 'agent.left'), { what: 'agent.left on the user socket' });
    expect((await api(b, 'GET', '/api/v1/handoffs', staff('ana'))).json).toMatchObject({ waiting: 0, items: [] });

    // The bot answers again.
    user.ws.send(JSON.stringify({ type: 'chat.message', id: 'm-4', text: 'thanks, what time is it?' }));
    await waitFor(() => ofType(user.frames, 'agent.message').length === 2, { what: 'the bot answering again', timeoutMs: 20_000 });
    expect(ofType(user.frames, 'chat.accepted').map((f) => f.id)).toEqual(['m-1', 'm-4']);

    // Every turn in the transcript, read after the fact (the user's own view, and it survives a reload).
    const history = await api(a, 'GET', `/api/v1/conversations/${conversationId}/messages?limit=50`, token({ sub: 'visitor' }));
    const seen = (history.json.messages as Array<{ role: string; content: string; handoff?: unknown }>).map((m) => [m.role, m.handoff ?? m.content]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['handoff', { event: 'waiting' }],
        ['user', 'hello? anyone there'],
        ['handoff', { event: 'joined', agent: { id: 'ana', name: 'ana' } }],
        ['human_agent', { agent: { id: 'ana', name: 'ana' } }],
        ['user', 'my order is late'],
        ['handoff', { event: 'left', agent: { id: 'ana', name: 'ana' } }],
        ['user', 'thanks, what time is it?'],
      ]),
    );
    const roles = seen.map(([r]) => r);
    expect(roles.indexOf('human_agent')).toBeGreaterThan(roles.indexOf('handoff'));
    feed.close();
    user.ws.close();
  });

  test('refusals: a plain user, another tenant, an unknown id, a message to a conversation the bot handles', async () => {
    const user = rawSocket(`${b.ws}?token=${token({ sub: 'plain' })}&new=1`);
    const welcome = await waitFor(() => user.frames.find((f) => f.type === 'welcome'));
    const conversationId = welcome.conversationId as string;
    user.ws.send(JSON.stringify({ type: 'chat.message', id: 'p-1', text: 'just a question' }));
    await waitFor(() => user.frames.find((f) => f.type === 'agent.message'), { timeoutMs: 20_000 });

    const plain = token({ sub: 'plain' });
    expect((await api(a, 'GET', '/api/v1/handoffs', plain)).status).toBe(403);
    expect((await api(a, 'POST', `/api/v1/conversations/${conversationId}/takeover`, plain)).status).toBe(403);
    expect((await api(a, 'POST', `/api/v1/conversations/${conversationId}/handback`, plain)).status).toBe(403);
    expect((await api(a, 'POST', `/api/v1/conversations/${conversationId}/messages`, plain, { id: 'x', text: 'hi' })).status).toBe(403);

    const foreign = await api(a, 'POST', `/api/v1/conversations/${conversationId}/takeover`, staff('eve', 't2'));
    expect(foreign.status).toBe(404);
    expect(foreign.json.error).toMatchObject({ code: 'not_found' });
    expect((await api(a, 'GET', '/api/v1/handoffs', staff('eve', 't2'))).json).toMatchObject({ items: [] });
    expect((await api(a, 'POST', '/api/v1/conversations/0192f3c4-1b2a-7cde-8f00-123456789abc/takeover', staff('ana'))).status).toBe(404);

    const toBot = await api(a, 'POST', `/api/v1/conversations/${conversationId}/messages`, staff('ana'), { id: 'op-x', text: 'hello' });
    expect(toBot.status).toBe(409);
    expect(toBot.json.error).toMatchObject({ code: 'conflict', details: { state: 'bot' } });
    const handbackBot = await api(a, 'POST', `/api/v1/conversations/${conversationId}/handback`, staff('ana'));
    expect(handbackBot.status).toBe(409);
    const empty = await api(a, 'POST', `/api/v1/conversations/${conversationId}/messages`, staff('ana'), { id: 'op-y', text: '   ' });
    expect(empty.status).toBe(400);
    user.ws.close();
  });
});
