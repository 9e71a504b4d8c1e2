import { createDb } from '@parley/db/client';
import { describe, expect } from 'vitest';
import { msg, test, uid } from './testing/store-fixture.js';
import { copyToArchive, getArchivedConversation, readAllArchivedMessages } from './archive.js';
import { HotStore } from './hot-store.js';
import { migrationDueKey, tenantIndexKey } from './keys.js';
import { migrateConversation } from './migration.js';
import { ConversationBusyError, ConversationNotFoundError, ConversationStore } from './store.js';

describe('hot appends', () => {
  test('numbers messages, creates the conversation once, and is idempotent by message id', async ({ store }) => {
    const id = uid();
    const first = msg(id, { content: 'How do I reset my password?', channel: 'web', agentId: 'support', sessionId: 's1' });
    const a = await store.append('t1', first);
    const b = await store.append('t1', msg(id, { role: 'assistant', tokenCount: 7 }));
    expect(a).toEqual({ seq: 1, tokenCount: 5, created: true, createdConversation: true });
    expect(b).toEqual({ seq: 2, tokenCount: 7, created: true, createdConversation: false });
    expect(await store.append('t1', { ...first, tokenCount: 99 })).toEqual({ seq: 1, tokenCount: 5, created: false, createdConversation: false });
    const meta = await store.hot.getMeta(id);
    expect(meta).toMatchObject({
      tenantId: 't1',
      messageCount: 2,
      tokenCount: 12,
      title: 'How do I reset my password?',
      channel: 'web',
      agentId: 'support',
      status: 'open',
      base: 0,
    });
    expect(await store.hot.sessionConversation('t1', 's1')).toBe(id);
  });

  test("another tenant's conversation is not found, for saves and closes alike", async ({ store }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await expect(store.append('t2', msg(id))).rejects.toBeInstanceOf(ConversationNotFoundError);
    await expect(store.close('t2', id)).rejects.toBeInstanceOf(ConversationNotFoundError);
    await expect(store.close('t1', uid())).rejects.toBeInstanceOf(ConversationNotFoundError);
  });

  test('indexes: tenant set by activity, due set at activity + idle, and now once closed', async ({ store, redis, prefix }) => {
    const id = uid();
    await store.append('t1', msg(id));
    const meta = await store.hot.getMeta(id);
    expect(Number(await redis.zscore(tenantIndexKey(prefix, 't1'), id))).toBe(meta?.lastActivityAt);
    expect(Number(await redis.zscore(migrationDueKey(prefix), id))).toBe((meta?.lastActivityAt ?? 0) + 60_000);
    await store.close('t1', id);
    const closed = await store.hot.getMeta(id);
    expect(closed?.status).toBe('closed');
    expect(Number(await redis.zscore(migrationDueKey(prefix), id))).toBe(closed?.lastActivityAt);
    expect(await store.hot.pickDue(Date.now() + 1, 10)).toEqual([{ conversationId: id, dueAt: closed?.dueAt }]);
    // A new user message re-opens it.
    await store.append('t1', msg(id));
    expect((await store.hot.getMeta(id))?.status).toBe('open');
  });

  test('keeps a TTL safety net on every hot key', async ({ store, redis }) => {
    const id = uid();
    await store.append('t1', msg(id));
    const k = store.hot.keys(id);
    for (const key of [k.meta, k.messages, k.ids, k.facts]) expect(await redis.pttl(key)).toBeGreaterThan(24 * 3600_000);
  });
});

describe('migration', () => {
  test('copies to the archive in one go, removes the hot copy and its index entries', async ({ store, redis, prefix }) => {
    const id = uid();
    for (let i = 0; i < 5; i++) await store.append('t1', msg(id, { role: i % 2 ? 'assistant' : 'user', latencyMs: i % 2 ? 100 : undefined }));
    const res = await migrateConversation(store.hot, store.db, id);
    expect(res).toEqual({ migrated: true, messages: 5, inserted: 5 });
    expect(await store.hot.getMeta(id)).toBeNull();
    expect(await redis.zscore(migrationDueKey(prefix), id)).toBeNull();
    expect(await redis.zscore(tenantIndexKey(prefix, 't1'), id)).toBeNull();
    expect(await getArchivedConversation(store.db, id)).toMatchObject({ tenantId: 't1', messageCount: 5, tokenCount: 25 });
    expect((await readAllArchivedMessages(store.db, id)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await migrateConversation(store.hot, store.db, id)).toEqual({ migrated: false, reason: 'not_hot', messages: 0 });
  });

  test('a message saved between snapshot and delete keeps the hot copy, and the next pass archives it', async ({ store }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await store.append('t1', msg(id));
    const token = (await store.hot.acquireLease(id, 10_000)) as string;
    const snapshot = await store.hot.readAll(id);
    if (!snapshot) throw new Error('no snapshot');
    const late = await store.append('t1', msg(id, { content: 'arrived during migration' }));
    expect(late.seq).toBe(3);
    await copyToArchive(store.db, snapshot);
    expect(await store.hot.finishMigration(snapshot, token)).toBe('changed');
    await store.hot.releaseLease(id, token);
    expect((await store.hot.getMeta(id))?.messageCount).toBe(3);
    expect(await migrateConversation(store.hot, store.db, id)).toEqual({ migrated: true, messages: 3, inserted: 1 });
    const archived = await readAllArchivedMessages(store.db, id);
    expect(archived.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(archived[2]?.content).toBe('arrived during migration');
  });

  test('a close between snapshot and delete is not lost either', async ({ store }) => {
    const id = uid();
    await store.append('t1', msg(id));
    const token = (await store.hot.acquireLease(id, 10_000)) as string;
    const snapshot = await store.hot.readAll(id);
    if (!snapshot) throw new Error('no snapshot');
    await store.close('t1', id);
    await copyToArchive(store.db, snapshot);
    expect(await store.hot.finishMigration(snapshot, token)).toBe('changed');
    await store.hot.releaseLease(id, token);
    await migrateConversation(store.hot, store.db, id);
    expect((await getArchivedConversation(store.db, id))?.status).toBe('closed');
  });

  test('a save after migration re-opens the conversation hot, continuing its numbering', async ({ store, redis }) => {
    const id = uid();
    const first = msg(id, { sessionId: 's', channel: 'chatwoot' });
    await store.append('t1', first);
    await store.append('t1', msg(id, { role: 'assistant' }));
    await store.close('t1', id);
    await migrateConversation(store.hot, store.db, id);
    // A redelivery of an archived message is still a duplicate.
    expect(await store.append('t1', first)).toMatchObject({ seq: 1, created: false });
    const again = await store.append('t1', msg(id, { content: 'I am back' }));
    expect(again).toMatchObject({ seq: 3, created: true });
    // The re-created copy's keys (the lists made by this save included) all carry the TTL.
    const k = store.hot.keys(id);
    for (const key of [k.meta, k.messages, k.ids, k.facts]) expect(await redis.pttl(key)).toBeGreaterThan(24 * 3600_000);
    const meta = await store.hot.getMeta(id);
    expect(meta).toMatchObject({ base: 2, messageCount: 3, status: 'open', channel: 'chatwoot', sessionId: 's' });
    expect(await store.hot.readRange(meta!, 1, 3)).toHaveLength(1);
    await expect(store.append('t2', msg(id))).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(await migrateConversation(store.hot, store.db, id)).toMatchObject({ migrated: true, inserted: 1 });
    expect((await readAllArchivedMessages(store.db, id)).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect((await getArchivedConversation(store.db, id))?.messageCount).toBe(3);
  });

  test('a save to a migrated conversation waits for a migration lease, then lands', async ({ store }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await migrateConversation(store.hot, store.db, id);
    const token = (await store.hot.acquireLease(id, 10_000)) as string;
    const pending = store.append('t1', msg(id));
    await new Promise((r) => setTimeout(r, 100));
    await store.hot.releaseLease(id, token);
    expect(await pending).toMatchObject({ seq: 2, created: true, createdConversation: true });
  });

  test('a save gives up with a retryable busy error when the lease is never released', async ({ store, redis, db }) => {
    const impatient = new ConversationStore(new HotStore(redis, { prefix: store.hot.prefix }), createDb(db.pool), { reopenWaitMs: 50 });
    const id = uid();
    await impatient.hot.acquireLease(id, 10_000);
    await expect(impatient.append('t1', msg(id))).rejects.toBeInstanceOf(ConversationBusyError);
  });

  test('a crash between commit and delete: the next pass copies nothing twice', async ({ store }) => {
    const id = uid();
    for (let i = 0; i < 3; i++) await store.append('t1', msg(id));
    const snapshot = await store.hot.readAll(id);
    if (!snapshot) throw new Error('no snapshot');
    await copyToArchive(store.db, snapshot); // …and the process dies here; its lease expires.
    expect(await migrateConversation(store.hot, store.db, id)).toEqual({ migrated: true, messages: 3, inserted: 0 });
    expect(await readAllArchivedMessages(store.db, id)).toHaveLength(3);
  });

  test('two racing migrations: one copies, the other is told the conversation is leased', async ({ store }) => {
    const id = uid();
    for (let i = 0; i < 20; i++) await store.append('t1', msg(id));
    const results = await Promise.all([migrateConversation(store.hot, store.db, id), migrateConversation(store.hot, store.db, id)]);
    expect(results.filter((r) => r.migrated)).toHaveLength(1);
    expect(await readAllArchivedMessages(store.db, id)).toHaveLength(20);
  });
});
