/**
 * Conversation search through the gateway: `GET /api/v1/conversations?q=` (staff: the tenant's) and
 * `GET /api/v1/me/conversations?q=` (anyone: their own), over a message said a moment ago (still hot
 * in Redis) and the same after the conversation is archived, paged, with the one error shape for bad q.
 */
import { describe, expect, test } from 'vitest';
import type { ListConversationsReply } from '@parley/contracts';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { ask, wsProbe } from './support/ws-probe.js';

const platform = usePlatform('gwsearch', { gateway: {}, migration: true });
const TENANT = 'srch';
const ann = token({ sub: 'srch-ann', tenant: TENANT });
const bob = token({ sub: 'srch-bob', tenant: TENANT });
const operator = token({ sub: 'srch-op', tenant: TENANT, roles: ['operator'] });
const foreignOperator = token({ sub: 'srch-op', tenant: 'srch-other', roles: ['operator'] });

async function get(bearer: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${platform.gw.http}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
  return { status: res.status, body: await res.json() };
}
const found = async (bearer: string, path: string) => {
  const r = await get(bearer, path);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body as ListConversationsReply).items.map((i) => i.conversationId);
};

/** A new conversation of the user with one exchange; resolves once the answer is there. */
async function chat(bearer: string, text: string): Promise<string> {
  const p = wsProbe(`${platform.gw.ws}?token=${bearer}&new=1`);
  try {
    const welcome = await p.welcome;
    await p.next((f) => f.type === 'history', { what: 'the handshake history' });
    const accepted = await ask(
      p,
      { type: 'chat.message', id: `m-${Math.random().toString(36).slice(2)}`, text: `${text} [[tokens:2]]` },
      (f) => f.type === 'chat.accepted',
    );
    await p.next((f) => f.type === 'agent.message' && f.runId === accepted.runId, { what: 'the answer' });
    return String(welcome.conversationId);
  } finally {
    p.close();
  }
}

describe('conversation search over REST', () => {
  test('a message said a moment ago is found; staff search the tenant, a user only their own; another tenant finds nothing', async () => {
    const annConv = await chat(ann, 'My kayak paddle arrived broken');
    const bobConv = await chat(bob, 'Where is my kayak?');

    const hits = await get(operator, '/api/v1/conversations?q=kayaks');
    expect(hits.status).toBe(200);
    const items = (hits.body as ListConversationsReply).items;
    expect(items.map((i) => i.conversationId).sort()).toEqual([annConv, bobConv].sort());
    const annHit = items.find((i) => i.conversationId === annConv)!;
    expect(annHit).toMatchObject({ archived: false, match: { role: 'user', seq: 1 } });
    expect(annHit.match!.snippet.filter((s) => s.hit).map((s) => s.text)).toEqual(['kayak']);

    expect(await found(ann, '/api/v1/me/conversations?q=kayak')).toEqual([annConv]);
    expect(await found(bob, '/api/v1/me/conversations?q=paddle')).toEqual([]);
    expect(await found(foreignOperator, '/api/v1/conversations?q=kayak')).toEqual([]);
    expect((await get(ann, '/api/v1/conversations?q=kayak')).status).toBe(403);
  }, 60_000);

  test('found again once archived, and paged with the cursor', async () => {
    const ids: string[] = [];
    for (const word of ['first', 'second', 'third']) ids.push(await chat(ann, `${word} question about the lighthouse`));
    const bus = platform.gw.gw.ctx.bus;
    await bus.call('conversation.session_closed', { conversationId: ids[0]! }, { tenantId: TENANT });
    expect(await bus.call('migration.migrate_conversation', { conversationId: ids[0]! }, { tenantId: TENANT })).toMatchObject({ migrated: true });
    const archived = (await get(ann, '/api/v1/me/conversations?q=first')).body as ListConversationsReply;
    expect(archived.items.map((i) => [i.conversationId, i.archived])).toEqual([[ids[0], true]]);
    const pages: string[][] = [];
    let cursor = '';
    for (let i = 0; i < 4; i++) {
      const r = await get(ann, `/api/v1/me/conversations?q=lighthouse&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const page = r.body as ListConversationsReply;
      pages.push(page.items.map((x) => x.conversationId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    // The list's order (closing counts as activity), two per page, each once.
    const listed = ((await get(ann, '/api/v1/me/conversations?limit=100')).body as ListConversationsReply).items.map((i) => i.conversationId);
    const order = listed.filter((c) => ids.includes(c));
    expect(pages).toEqual([order.slice(0, 2), order.slice(2)]);
  }, 60_000);

  test('bad search text answers 400 in the one error shape; query syntax is only words', async () => {
    for (const q of ['x'.repeat(201), 'a%01b', '%20%20']) {
      const r = await get(operator, `/api/v1/conversations?q=${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_payload', retryable: false, requestId: expect.any(String) } });
      expect(JSON.stringify(r.body)).toContain('q');
    }
    for (const q of ["'); drop table messages; --", '!!(&|', '"', 'a <-> b:*']) {
      expect((await get(operator, `/api/v1/conversations?q=${encodeURIComponent(q)}`)).status, q).toBe(200);
    }
  }, 30_000);
});
