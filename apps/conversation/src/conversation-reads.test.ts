/** End to end through the bus: history, close, list and stats across the hot store and the archive. */
import { describe, expect } from 'vitest';
import { conversationTest as test, errorOf, id, seed, t1, t2 } from './testing/harness.js';

describe('conversation.get_history', () => {
  test('pages backwards and reads the same before and after archiving, and after re-opening', async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 7);
    const pages = async () => {
      const p1 = await h.bus.call('conversation.get_history', { conversationId: c, limit: 3 }, t1);
      const p2 = await h.bus.call('conversation.get_history', { conversationId: c, limit: 3, before: p1.messages[0]!.seq }, t1);
      const p3 = await h.bus.call('conversation.get_history', { conversationId: c, limit: 3, before: p2.messages[0]!.seq }, t1);
      return [p1, p2, p3];
    };
    const hot = await pages();
    expect(hot.map((p) => p.messages.map((m) => m.seq))).toEqual([[5, 6, 7], [2, 3, 4], [1]]);
    expect(hot.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(hot[0]!.messages[1]).toMatchObject({ role: 'assistant', content: 'message 6', latencyMs: 600 });
    await h.archive(c);
    expect(await pages()).toEqual(hot);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).archived).toBe(true);
    // A new message re-opens it hot; the archived part still reads the same.
    await h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'user', content: 'back again' }, t1);
    const all = await h.bus.call('conversation.get_history', { conversationId: c, limit: 200 }, t1);
    expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(all.messages.slice(0, 7)).toEqual([...hot[2]!.messages, ...hot[1]!.messages, ...hot[0]!.messages]);
  });

  test('finds the newest conversation of a session, hot or archived, and answers empty for an unknown session', async ({ h }) => {
    const c = id('c');
    const meta = { tenantId: 't1', sessionId: id('s') };
    await seed(h.bus, c, 2, meta);
    expect((await h.bus.call('conversation.get_history', { sessionId: meta.sessionId }, meta)).conversationId).toBe(c);
    await h.archive(c);
    await h.deps.store.hot.redis.del(`${h.deps.store.hot.prefix}:convs:session:{tenant:t1}:${meta.sessionId}`);
    const archived = await h.bus.call('conversation.get_history', { sessionId: meta.sessionId }, meta);
    expect(archived).toMatchObject({ conversationId: c, hasMore: false });
    expect(archived.messages).toHaveLength(2);
    expect(await h.bus.call('conversation.get_history', { sessionId: 'never' }, t1)).toEqual({ conversationId: null, messages: [], hasMore: false });
    expect((await errorOf(h.bus.call('conversation.get_history', { limit: 5 } as never, t1))).code).toBe('invalid_payload');
  });

  test('the history of an id nobody wrote yet (every new chat asks) is a reply saying "no conversation", not an error', async ({ h }) => {
    expect(await h.bus.call('conversation.get_history', { conversationId: id('new') }, t1)).toEqual({ conversationId: null, messages: [], hasMore: false });
  });
});

describe('conversation.session_closed', () => {
  test('closes, makes it due now, is idempotent, and also closes an archived conversation', async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 2);
    expect(await h.bus.call('conversation.session_closed', { conversationId: c }, t1)).toEqual({ conversationId: c, status: 'closed' });
    expect(await h.bus.call('conversation.session_closed', { conversationId: c }, t1)).toEqual({ conversationId: c, status: 'closed' });
    expect((await h.deps.store.hot.pickDue(Date.now(), 10)).map((d) => d.conversationId)).toContain(c);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).status).toBe('closed');
    const idle = id('c');
    await seed(h.bus, idle, 1);
    await h.archive(idle);
    await h.bus.call('conversation.session_closed', { conversationId: idle }, t1);
    expect(await h.bus.call('conversation.get', { conversationId: idle }, t1)).toMatchObject({ status: 'closed', archived: true });
  });
});

describe('conversation.list', () => {
  test('merges hot and archived conversations, newest activity first, with a stable cursor', async ({ h }) => {
    const tenant = { tenantId: id('tenant') };
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const c = id('c');
      ids.push(c);
      await h.bus.call(
        'conversation.save_message',
        { messageId: id('m'), conversationId: c, role: 'user', content: `conversation ${i}`, channel: i % 2 ? 'web' : 'chatwoot' },
        tenant,
      );
    }
    await h.archive(ids[1]!);
    await h.archive(ids[4]!);
    await h.bus.call('conversation.session_closed', { conversationId: ids[6]! }, tenant);
    const seen: string[] = [];
    let cursor: string | undefined;
    let archivedSeen = 0;
    do {
      const page = await h.bus.call('conversation.list', { limit: 2, cursor }, tenant);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((x) => x.conversationId));
      archivedSeen += page.items.filter((x) => x.archived).length;
      cursor = page.nextCursor ?? undefined;
      // Archiving between pages does not disturb the order.
      if (seen.length === 2) await h.archive(ids[2]!);
    } while (cursor);
    expect(seen).toEqual(
      [...ids]
        .reverse()
        .filter((x) => x !== ids[6])
        .toSpliced(0, 0, ids[6]!),
    );
    expect(archivedSeen).toBe(3);
    const web = await h.bus.call('conversation.list', { channel: 'web', limit: 100 }, tenant);
    expect(web.items.map((x) => x.conversationId).sort()).toEqual([ids[1], ids[3], ids[5]].sort());
    const closed = await h.bus.call('conversation.list', { status: 'closed' }, tenant);
    expect(closed.items.map((x) => x.conversationId)).toEqual([ids[6]]);
    expect((await errorOf(h.bus.call('conversation.list', { cursor: 'garbage' }, tenant))).code).toBe('invalid_payload');
  });

  test("with userId: only that user's own web conversations, hot and archived, paged; never a channel's or another user's", async ({ h }) => {
    const tenantId = id('tenant');
    const ann = { tenantId, userId: 'ann' };
    const save = (conversationId: string, meta: { tenantId: string; userId?: string }, agentId = 'support') =>
      h.bus.call('conversation.save_message', { messageId: id('m'), conversationId, role: 'user', content: `in ${conversationId}`, agentId }, meta);
    const mine = [id('c'), id('c'), id('c'), id('c')];
    for (const c of mine) await save(c, ann);
    await save(id('c'), { tenantId, userId: 'bob' });
    await save(id('c'), { tenantId: id('other-tenant'), userId: 'ann' });
    // A channel contact whose id equals the user's: its conversation is the contact's, not ann's.
    const channel = `cw:1:2:${id('x')}`;
    await save(channel, ann);
    await save(id('c'), ann, 'sales');
    await h.archive(channel);
    await h.archive(mine[0]!);
    await h.archive(mine[2]!);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.bus.call('conversation.list', { userId: 'ann', agentId: 'support', limit: 3, cursor }, { tenantId });
      seen.push(...page.items.map((x) => x.conversationId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...mine].reverse());
    // Closing moves it to the front (last activity) and out of the open ones.
    await h.bus.call('conversation.session_closed', { conversationId: mine[1]! }, { tenantId });
    const all = await h.bus.call('conversation.list', { userId: 'ann', limit: 100 }, { tenantId });
    expect(all.items.map((x) => x.conversationId)).toHaveLength(5);
    expect(all.items[0]).toMatchObject({ conversationId: mine[1], status: 'closed' });
    const open = await h.bus.call('conversation.list', { userId: 'ann', agentId: 'support', status: 'open', limit: 1 }, { tenantId });
    expect(open.items.map((x) => x.conversationId)).toEqual([mine[3]]);
    expect((await h.bus.call('conversation.list', { userId: 'nobody', limit: 10 }, { tenantId })).items).toEqual([]);
  });
});

describe('conversation.stats', () => {
  test('counts hot and archived once each, by channel, agent and day, with latency percentiles and tokens', async ({ h }) => {
    const tenant = { tenantId: id('tenant') };
    const save = (conversationId: string, role: 'user' | 'assistant', latencyMs?: number, channel: 'web' | 'api' = 'web') =>
      h.bus.call(
        'conversation.save_message',
        {
          messageId: id('m'),
          conversationId,
          role,
          content: 'hello there',
          channel,
          agentId: channel === 'web' ? 'support' : 'sales',
          latencyMs,
          usage: role === 'assistant' ? { promptTokens: 100, completionTokens: 10, totalTokens: 110 } : undefined,
        },
        tenant,
      );
    const a = id('c');
    const b = id('c');
    await save(a, 'user');
    await save(a, 'assistant', 100);
    await save(b, 'user', undefined, 'api');
    await save(b, 'assistant', 300, 'api');
    await h.archive(a);
    await save(a, 'assistant', 200); // re-opened: two archived messages, one hot
    const stats = await h.bus.call('conversation.stats', {}, tenant);
    expect(stats).toMatchObject({
      conversations: 2,
      messages: 5,
      byChannel: { web: { conversations: 1, messages: 3 }, api: { conversations: 1, messages: 2 } },
      byAgent: { support: { conversations: 1, messages: 3 }, sales: { conversations: 1, messages: 2 } },
      assistantLatencyMs: { avg: 200, p50: 200, p95: 290 },
      tokens: { prompt: 300, completion: 30 },
    });
    expect(stats.byDay).toEqual([{ day: new Date().toISOString().slice(0, 10), conversations: 2, messages: 5 }]);
    expect(stats.tokens.total).toBeGreaterThan(0);
    const sales = await h.bus.call('conversation.stats', { agentId: 'sales' }, tenant);
    expect(sales).toMatchObject({ conversations: 1, messages: 2, assistantLatencyMs: { avg: 300 } });
    const future = await h.bus.call('conversation.stats', { from: new Date(Date.now() + 3600_000).toISOString() }, tenant);
    expect(future).toMatchObject({ conversations: 0, messages: 0, assistantLatencyMs: { avg: null } });
  });
});

describe('conversation.get', () => {
  test("another tenant's id is not_found, and says (to the gateway, in details) that the id is taken, hot or archived", async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 1);
    const hot = await errorOf(h.bus.call('conversation.get', { conversationId: c }, t2));
    expect(hot).toMatchObject({ code: 'not_found', details: { otherTenant: true } });
    await h.archive(c);
    expect(await errorOf(h.bus.call('conversation.get', { conversationId: c }, t2))).toMatchObject({ code: 'not_found', details: { otherTenant: true } });
    const unknown = await errorOf(h.bus.call('conversation.get', { conversationId: id('never') }, t2));
    expect(unknown.code).toBe('not_found');
    expect(unknown.details).toBeUndefined();
  });
});
