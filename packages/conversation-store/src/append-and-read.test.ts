/**
 * ConversationStore.appendAndRead (begin_turn's path): the append script's own snapshot, and the
 * index write that runs alongside the caller's read but still gates its answer.
 */
import { describe, expect } from 'vitest';
import { msg, test, uid } from './testing/store-fixture.js';
import { migrationDueKey, tenantIndexKey } from './keys.js';
import { migrateConversation } from './migration.js';
import { ConversationNotFoundError } from './store.js';
import type { AppendResult, HotTail } from './types.js';

const keep = async (saved: AppendResult, snapshot: HotTail) => ({ saved, snapshot });

describe('index writes', () => {
  test('a failed index write fails append too (ioredis resolves a pipeline whose commands failed)', async ({ store, redis, prefix }) => {
    const id = uid();
    await redis.set(migrationDueKey(prefix), 'not a sorted set');
    await expect(store.append('t1', msg(id))).rejects.toThrow(/WRONGTYPE/);
    expect((await store.hot.getMeta(id))?.messageCount).toBe(1);
  });
});

describe('appendAndRead', () => {
  test('hands the read the header and newest messages as the script left them, and indexes like append', async ({ store, redis, prefix }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await store.append('t1', msg(id, { role: 'assistant' }));
    const last = msg(id, { content: 'third' });
    const { saved, snapshot } = await store.appendAndRead('t1', last, 2, keep);
    expect(saved).toEqual({ seq: 3, tokenCount: 5, created: true, createdConversation: false });
    expect(snapshot.meta).toEqual(await store.hot.getMeta(id));
    expect(snapshot.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(snapshot.messages[1]).toMatchObject({ messageId: last.messageId, content: 'third' });
    expect(Number(await redis.zscore(tenantIndexKey(prefix, 't1'), id))).toBe(snapshot.meta.lastActivityAt);
    expect(Number(await redis.zscore(migrationDueKey(prefix), id))).toBe(snapshot.meta.dueAt);
    // A redelivery: nothing is stored twice, and the read sees the same conversation.
    const again = await store.appendAndRead('t1', last, 2, keep);
    expect(again).toEqual({ saved: { ...saved, created: false }, snapshot });
    // A tail of 0 is no messages (LRANGE -0 -1 would be all of them), header still there.
    const none = await store.appendAndRead('t1', last, 0, keep);
    expect(none.snapshot).toEqual({ meta: snapshot.meta, messages: [] });
  });

  test('the first message creates the conversation and its session entry', async ({ store }) => {
    const id = uid();
    const { saved, snapshot } = await store.appendAndRead('t1', msg(id, { sessionId: 's1' }), 128, keep);
    expect(saved).toMatchObject({ seq: 1, created: true, createdConversation: true });
    expect(snapshot.messages).toHaveLength(1);
    expect(await store.hot.sessionConversation('t1', 's1')).toBe(id);
  });

  test('re-opening a migrated conversation: the snapshot is the re-created hot copy, base after the archive; the script freed the lease', async ({
    store,
    redis,
  }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await store.append('t1', msg(id, { role: 'assistant' }));
    await migrateConversation(store.hot, store.db, id);
    const { saved, snapshot } = await store.appendAndRead('t1', msg(id, { content: 'back' }), 128, keep);
    expect(saved).toMatchObject({ seq: 3, created: true, createdConversation: true });
    expect(snapshot.meta).toMatchObject({ base: 2, messageCount: 3 });
    expect(snapshot.messages.map((m) => m.content)).toEqual(['back']);
    expect(await redis.exists(store.hot.keys(id).lease)).toBe(0);
    expect(await migrateConversation(store.hot, store.db, id)).toMatchObject({ migrated: true, inserted: 1 });
  });

  test('a re-open that finds the archive belongs to another tenant still releases its lease', async ({ store, redis }) => {
    const id = uid();
    await store.append('t1', msg(id));
    await migrateConversation(store.hot, store.db, id);
    await expect(store.appendAndRead('t2', msg(id), 128, keep)).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(await redis.exists(store.hot.keys(id).lease)).toBe(0);
    expect(await store.hot.getMeta(id)).toBeNull();
  });

  test("another tenant's conversation is not found, and the read never runs", async ({ store }) => {
    const id = uid();
    await store.append('t1', msg(id));
    let reads = 0;
    const count = async () => void reads++;
    await expect(store.appendAndRead('t2', msg(id), 128, count)).rejects.toBeInstanceOf(ConversationNotFoundError);
    expect(reads).toBe(0);
    expect((await store.hot.getMeta(id))?.messageCount).toBe(1);
  });

  test('a failed index write fails the call even when the read succeeded or failed; a redelivery repairs it', async ({ store, redis, prefix }) => {
    const id = uid();
    const index = tenantIndexKey(prefix, 't1');
    // A wrong-typed key makes the ZADD fail in the real Redis, after the script has stored the message.
    await redis.set(index, 'not a sorted set');
    const m = msg(id);
    let read: HotTail | undefined;
    const remember = async (_: AppendResult, snapshot: HotTail) => void (read = snapshot);
    await expect(store.appendAndRead('t1', m, 128, remember)).rejects.toThrow(/WRONGTYPE/);
    expect(read?.messages.map((x) => x.messageId)).toEqual([m.messageId]);
    const refused = async () => {
      throw new Error('the read refused');
    };
    await expect(store.appendAndRead('t1', m, 128, refused)).rejects.toThrow(/WRONGTYPE/);
    expect((await store.hot.getMeta(id))?.messageCount).toBe(1);
    await redis.del(index);
    const { saved, snapshot } = await store.appendAndRead('t1', m, 128, keep);
    expect(saved).toMatchObject({ seq: 1, created: false });
    expect(Number(await redis.zscore(index, id))).toBe(snapshot.meta.lastActivityAt);
  });

  test("with the index written, the read's own failure is the answer", async ({ store, redis, prefix }) => {
    const id = uid();
    const refused = () => Promise.reject(new Error('the read refused'));
    await expect(store.appendAndRead('t1', msg(id), 128, refused)).rejects.toThrow('the read refused');
    expect(await redis.zscore(tenantIndexKey(prefix, 't1'), id)).not.toBeNull();
    // A read that throws before returning a promise is still awaited next to the index write.
    const sync = ((): never => {
      throw new Error('thrown synchronously');
    }) as unknown as typeof refused;
    await expect(store.appendAndRead('t1', msg(id), 128, sync)).rejects.toThrow('thrown synchronously');
    expect((await store.hot.getMeta(id))?.messageCount).toBe(2);
  });
});
