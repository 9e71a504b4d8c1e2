/** End to end through the bus: `q` on conversation.list, over hot conversations, the archive and re-opened ones. */
import type { ActionMeta, Bus } from '@parley/bus';
import type { Catalog, ConversationSummary } from '@parley/contracts';
import { describe, expect } from 'vitest';
import { conversationTest as test, errorOf, id } from './testing/harness.js';

const say = (h: { bus: Bus<Catalog> }, meta: ActionMeta, conversationId: string, role: 'user' | 'assistant' | 'tool', content: string) =>
  h.bus.call(
    'conversation.save_message',
    { messageId: id('m'), conversationId, role, content, channel: 'web', ...(role === 'tool' ? { toolCallId: 'call-1' } : {}) },
    meta,
  );

const hitText = (s: ConversationSummary) => s.match?.snippet.filter((p) => p.hit).map((p) => p.text.toLowerCase());

describe('conversation.list with q', () => {
  test('finds a message the moment it is saved, and the same after it is archived, with a highlighted snippet', async ({ h }) => {
    const tenant = { tenantId: id('t'), userId: 'u1' };
    const c = id('c');
    const other = id('c');
    await say(h, tenant, c, 'user', 'My parcel to Lisbon never arrived, can you check the refund?');
    await say(h, tenant, c, 'assistant', 'I am sorry. Refunds are issued within five days.');
    await say(h, tenant, other, 'user', 'How do I change my password?');

    const hot = await h.bus.call('conversation.list', { q: 'refunded', limit: 20 }, tenant);
    // Stemming: "refunded" finds "refund" and "Refunds"; the newest matching message is the snippet.
    expect(hot.items.map((i) => i.conversationId)).toEqual([c]);
    expect(hot.items[0]!.match).toMatchObject({ role: 'assistant', seq: 2 });
    expect(hitText(hot.items[0]!)).toEqual(['refunds']);
    expect(hot.items[0]!.match!.snippet.map((p) => p.text).join('')).toContain('issued within five days');

    await h.archive(c);
    const archived = await h.bus.call('conversation.list', { q: 'refunded', limit: 20 }, tenant);
    expect(archived.items.map((i) => [i.conversationId, i.archived])).toEqual([[c, true]]);
    expect(archived.items[0]!.match).toEqual(hot.items[0]!.match);

    // Re-opened: the new hot message and the archived older ones are both searched.
    await say(h, tenant, c, 'user', 'Still waiting for the parcel');
    const lisbon = await h.bus.call('conversation.list', { q: 'lisbon', limit: 20 }, tenant);
    expect(lisbon.items.map((i) => [i.conversationId, i.archived, i.match?.seq])).toEqual([[c, false, 1]]);
    const parcel = await h.bus.call('conversation.list', { q: 'parcel', limit: 20 }, tenant);
    expect(parcel.items.map((i) => i.match?.seq)).toEqual([3]);
  });

  test('finds Spanish words by their Spanish stem, phrases, or and exclusion, and never tool payloads', async ({ h }) => {
    const tenant = { tenantId: id('t') };
    const a = id('c');
    const b = id('c');
    await say(h, tenant, a, 'user', '¿Dónde están mis pedidos de zapatos?');
    await say(h, tenant, a, 'tool', '{"secretToolField":"zapatos"}');
    await say(h, tenant, b, 'user', 'The blue shoes came in the wrong size');
    const list = (q: string) => h.bus.call('conversation.list', { q, limit: 20 }, tenant).then((r) => r.items.map((i) => i.conversationId).sort());

    expect(await list('pedido')).toEqual([a]);
    expect(await list('"blue shoes"')).toEqual([b]);
    expect(await list('"shoes blue"')).toEqual([]);
    expect(await list('zapatos or shoes')).toEqual([a, b].sort());
    expect(await list('shoes -wrong')).toEqual([]);
    expect(await list('secretToolField')).toEqual([]);
  });

  test('pages hits across hot and archived conversations with the list cursor, newest activity first', async ({ h }) => {
    const tenant = { tenantId: id('t') };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = id('c');
      ids.push(c);
      await say(h, tenant, c, 'user', `ticket ${i} about the invoice`);
      await say(h, tenant, id('c'), 'user', `unrelated chatter ${i}`);
      if (i % 2 === 0) await h.archive(c);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = await h.bus.call('conversation.list', { q: 'invoices', limit: 2, ...(cursor ? { cursor } : {}) }, tenant);
      seen.push(...r.items.map((i) => i.conversationId));
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });

  test("stays in the tenant, and a user's own list only holds their conversations", async ({ h }) => {
    const tenant = id('t');
    const mine = id('c');
    const theirs = id('c');
    await say(h, { tenantId: tenant, userId: 'ann' }, mine, 'user', 'walrus question');
    await say(h, { tenantId: tenant, userId: 'bob' }, theirs, 'user', 'walrus answer');
    await say(h, { tenantId: id('t'), userId: 'ann' }, id('c'), 'user', 'walrus elsewhere');
    const staff = await h.bus.call('conversation.list', { q: 'walrus', limit: 20 }, { tenantId: tenant });
    expect(staff.items.map((i) => i.conversationId).sort()).toEqual([mine, theirs].sort());
    const own = await h.bus.call('conversation.list', { q: 'walrus', userId: 'ann', limit: 20 }, { tenantId: tenant });
    expect(own.items.map((i) => i.conversationId)).toEqual([mine]);
  });

  test("hostile search text: operators and quotes are words, a message's markup is no highlight, limits and control characters are refused", async ({ h }) => {
    const tenant = { tenantId: id('t') };
    const c = id('c');
    await say(h, tenant, c, 'user', "O'Brien said: (a & b) | !c <-> 'd' — <b>bold</b> walrus");
    const q = (text: string) => h.bus.call('conversation.list', { q: text, limit: 20 }, tenant);
    for (const text of ["'", '&|!<->():*', "O'Brien & (", '"unterminated', '-', 'or or or', 'the']) {
      await expect(q(text)).resolves.toBeDefined();
    }
    expect((await q("O'Brien")).items.map((i) => i.conversationId)).toEqual([c]);
    const snippet = (await q('walrus')).items[0]!.match!.snippet;
    // Only the matched word is a hit; the message's own markup is no highlight (ts_headline drops tags).
    expect(snippet.filter((p) => p.hit).map((p) => p.text)).toEqual(['walrus']);
    expect(snippet.map((p) => p.text).join('')).toMatch(/bold\s+walrus$/);
    expect(snippet.map((p) => p.text).join('')).not.toContain('<b>');
    expect((await errorOf(q('x'.repeat(201)))).code).toBe('invalid_payload');
    expect((await errorOf(q('tab\there'))).code).toBe('invalid_payload');
    expect((await errorOf(q('   '))).code).toBe('invalid_payload');
  });
});

describe('status entries', () => {
  test('are kept in the history with their reason, and never reach a context', async ({ h }) => {
    const tenant = { tenantId: id('t') };
    const c = id('c');
    await say(h, tenant, c, 'user', 'first question');
    await h.bus.call(
      'conversation.save_message',
      {
        messageId: id('m'),
        conversationId: c,
        role: 'status',
        content: 'the model failed (HTTP 500): boom',
        status: { outcome: 'failed', code: 'model_error' },
      },
      tenant,
    );
    await say(h, tenant, c, 'user', 'second question');
    const history = await h.bus.call('conversation.get_history', { conversationId: c, limit: 50 }, tenant);
    expect(history.messages[1]).toMatchObject({
      role: 'status',
      content: 'the model failed (HTTP 500): boom',
      status: { outcome: 'failed', code: 'model_error' },
    });
    const context = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 1000 }, tenant);
    expect(context.messages.map((m) => m.content)).toEqual(['first question', 'second question']);
    await h.archive(c);
    expect((await h.bus.call('conversation.get_history', { conversationId: c, limit: 50 }, tenant)).messages).toEqual(history.messages);
    expect((await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 1000 }, tenant)).messages).toEqual(context.messages);
    const noStatus = h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'status', content: 'x' }, tenant);
    expect((await errorOf(noStatus)).code).toBe('invalid_payload');
  });
});
