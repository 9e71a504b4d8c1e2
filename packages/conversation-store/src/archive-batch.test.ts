import { createDb } from '@parley/db/client';
import { pgModeTest } from '@parley/testing';
import { describe, expect } from 'vitest';
import { copyToArchive, getArchivedConversation, readAllArchivedMessages } from './archive.js';
import { copyManyToArchive } from './archive-batch.js';
import { HotStore } from './hot-store.js';
import { ConversationStore } from './store.js';

const test = pgModeTest.extend('store', async ({ prefix, redis, db }) => new ConversationStore(new HotStore(redis, { prefix }), createDb(db.pool)));
const uid = () => `c-${Math.random().toString(36).slice(2, 10)}`;

async function seed(store: ConversationStore, tenant: string, id: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await store.append(tenant, {
      conversationId: id,
      messageId: `${id}-${i}`,
      role: i % 2 ? 'assistant' : 'user',
      content: i === 0 ? 'Where is my "order", {123}?\n\\ ok' : `reply ${i} ✓`,
      tokenCount: 3 + i,
      ...(i % 2
        ? {
            model: 'm',
            latencyMs: 120,
            usage: { promptTokens: 9, completionTokens: 4, totalTokens: 13 },
            toolCalls: [{ id: 't1', name: 'search', arguments: '{"q":"a,b"}' }],
            metadata: { k: [1, null] },
          }
        : { channel: 'web' as const }),
    });
  }
}

describe('copyManyToArchive', () => {
  test('writes exactly the rows copyToArchive writes, for many conversations in one transaction', async ({ store }) => {
    const [a, b, c] = [uid(), uid(), uid()];
    await seed(store, 't1', a, 5);
    await seed(store, 't2', b, 2);
    await seed(store, 't1', c, 3);
    await store.close('t1', c);
    const copies = await Promise.all([a, b].map(async (id) => (await store.hot.readAll(id))!));
    const inserted = await copyManyToArchive(store.db, copies);
    expect(Object.fromEntries(inserted)).toEqual({ [a]: 5, [b]: 2 });
    // The reference: the same snapshots through the one-conversation path, into fresh ids.
    for (const copy of copies) {
      const { base: _b, dueAt: _d, ...record } = copy.meta;
      expect(await getArchivedConversation(store.db, copy.meta.conversationId)).toEqual(record);
      expect(await readAllArchivedMessages(store.db, copy.meta.conversationId)).toEqual(copy.messages);
    }
    const single = (await store.hot.readAll(c))!;
    await copyManyToArchive(store.db, [single]);
    const viaBatch = { conv: await getArchivedConversation(store.db, c), msgs: await readAllArchivedMessages(store.db, c) };
    await copyToArchive(store.db, single);
    expect({ conv: await getArchivedConversation(store.db, c), msgs: await readAllArchivedMessages(store.db, c) }).toEqual(viaBatch);
    expect(viaBatch.conv?.status).toBe('closed');
  });

  test('copying again inserts nothing; a newer snapshot adds only its new messages and moves the header forward', async ({ store }) => {
    const id = uid();
    await seed(store, 't1', id, 3);
    const first = (await store.hot.readAll(id))!;
    await copyManyToArchive(store.db, [first]);
    expect((await copyManyToArchive(store.db, [first])).get(id)).toBe(0);
    await store.append('t1', { conversationId: id, messageId: `${id}-late`, role: 'user', content: 'one more', tokenCount: 2 });
    const second = (await store.hot.readAll(id))!;
    expect((await copyManyToArchive(store.db, [second])).get(id)).toBe(1);
    expect(await getArchivedConversation(store.db, id)).toMatchObject({ messageCount: 4, lastActivityAt: second.meta.lastActivityAt });
  });

  test("never overwrites another tenant's conversation row", async ({ store }) => {
    const id = uid();
    await seed(store, 't1', id, 1);
    const mine = (await store.hot.readAll(id))!;
    await copyManyToArchive(store.db, [mine]);
    const forged = { ...mine, meta: { ...mine.meta, tenantId: 't2', title: 'stolen' }, messages: [] };
    await copyManyToArchive(store.db, [forged]);
    expect(await getArchivedConversation(store.db, id)).toMatchObject({ tenantId: 't1', title: mine.meta.title });
  });
});
