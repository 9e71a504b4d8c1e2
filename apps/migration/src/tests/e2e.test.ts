// The migration service end to end: its main in a child process, driven through the bus, against
// the real Redis and this file's own PostgreSQL database.
import { createBus, type Bus } from '@parley/bus';
import { ActionError, catalog, type Catalog } from '@parley/contracts';
import { pgTest, redisUrl, waitFor } from '@parley/testing';
import { afterEach, describe, expect } from 'vitest';
import {
  archiveCounts,
  conversationStore,
  getArchivedConversation,
  message,
  readAllArchivedMessages,
  seedConversation,
  startMigration,
  statsAfter,
  uid,
  type MigrationProcess,
} from '../testing/harness.js';

const started: MigrationProcess[] = [];
const buses: Array<Bus<Catalog>> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
  await Promise.all(buses.splice(0).map((b) => b.close(0)));
});

async function service(prefix: string, dbUrl: string, env: Record<string, string> = {}) {
  const p = await startMigration({ BUS_PREFIX: prefix, DATABASE_URL: dbUrl, MIGRATION_INTERVAL_MS: '50', ...env });
  started.push(p);
  const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
  buses.push(bus);
  return { p, bus };
}

const meta = { tenantId: 't1' };

describe('migration service', () => {
  pgTest('the loop archives closed conversations with their exact history and removes the hot copy', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const ids = [uid(), uid(), uid()];
    for (const [i, id] of ids.entries()) await seedConversation(store, 't1', id, 5 + i * 10, { close: true });
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await store.hot.readAll(id)] as const)));
    const { bus, p } = await service(prefix, db.url);

    await waitFor(async () => (await store.hot.dueCount()) === 0, { what: 'the due set to drain' });
    for (const id of ids) {
      const hot = before.get(id)!;
      expect(await store.hot.getMeta(id)).toBeNull();
      // The archive holds exactly what Redis held: same seqs, ids, roles, content, usage, times.
      expect(await readAllArchivedMessages(store.db, id)).toEqual(hot.messages);
      const { base: _base, dueAt: _dueAt, ...record } = hot.meta;
      expect(await getArchivedConversation(store.db, id)).toEqual(record);
    }
    expect(await statsAfter(bus, 3)).toEqual({ migratedConversations: 3, migratedMessages: 45, failed: 0, pending: 0, oldestDueAgeMs: 0 });
    expect((await archiveCounts(db.pool, ids)).duplicateSeqs).toBe(0);
    // The loop's metrics are counted when its tick ends.
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`http://127.0.0.1:${p.port()}/metrics`)).text();
      return /parley_migration_messages_total\{[^}]*\} 45\n/.test(text) ? text : null;
    });
    expect(metrics).toMatch(/parley_migration_conversations_total\{[^}]*outcome="migrated"[^}]*\} 3\n/);
    expect(metrics).toMatch(/parley_migration_messages_total\{[^}]*\} 45\n/);
    expect(metrics).toMatch(/parley_migration_due\{[^}]*\} 0\n/);
  });

  pgTest('open conversations stay hot until idle; migrate_conversation moves one at once', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const open = uid();
    await seedConversation(store, 't1', open, 4);
    const { bus } = await service(prefix, db.url);
    await new Promise((r) => setTimeout(r, 300));
    expect(await store.hot.getMeta(open)).not.toBeNull();

    expect(await bus.call('migration.migrate_conversation', { conversationId: open }, meta)).toEqual({ conversationId: open, migrated: true, messages: 4 });
    expect(await store.hot.getMeta(open)).toBeNull();
    expect(await readAllArchivedMessages(store.db, open)).toHaveLength(4);
    // Again: nothing hot any more, the archive already has it.
    expect(await bus.call('migration.migrate_conversation', { conversationId: open }, meta)).toEqual({
      conversationId: open,
      migrated: false,
      messages: 0,
      reason: 'not_hot',
    });
  });

  pgTest('unknown conversations and other tenants are not found; bad payloads are rejected', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const mine = uid();
    await seedConversation(store, 't1', mine, 2);
    const { bus } = await service(prefix, db.url);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof ActionError ? e.code : String(e)),
      );
    expect(await code(bus.call('migration.migrate_conversation', { conversationId: uid() }, meta))).toBe('not_found');
    expect(await code(bus.call('migration.migrate_conversation', { conversationId: mine }, { tenantId: 't2' }))).toBe('not_found');
    expect(await store.hot.getMeta(mine)).not.toBeNull();
    await bus.call('migration.migrate_conversation', { conversationId: mine }, meta);
    expect(await code(bus.call('migration.migrate_conversation', { conversationId: mine }, { tenantId: 't2' }))).toBe('not_found');
    expect(await code(bus.call('migration.migrate_conversation', { conversationId: '' }, meta))).toBe('invalid_payload');
  });

  pgTest('stop_loop pauses every replica, start_loop resumes; stats report the waiting lag', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const { bus } = await service(prefix, db.url);
    expect(await bus.call('migration.stop_loop', {}, meta)).toEqual({ running: false });
    await service(prefix, db.url); // a second replica sees the same switch
    const id = uid();
    await seedConversation(store, 't1', id, 3, { close: true });
    await new Promise((r) => setTimeout(r, 400));
    const paused = await bus.call('migration.get_stats', {}, meta);
    expect(paused).toMatchObject({ migratedConversations: 0, pending: 1 });
    expect(paused.oldestDueAgeMs).toBeGreaterThanOrEqual(300);
    expect(await store.hot.getMeta(id)).not.toBeNull();

    expect(await bus.call('migration.start_loop', {}, meta)).toEqual({ running: true });
    await waitFor(async () => (await store.hot.getMeta(id)) === null, { what: 'migration after start_loop' });
    expect(await statsAfter(bus, 1)).toMatchObject({ migratedConversations: 1, migratedMessages: 3, pending: 0, oldestDueAgeMs: 0 });
  });

  pgTest('a conversation saved to again after migration re-opens hot and the next migration adds only the new messages', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const id = uid();
    await seedConversation(store, 't1', id, 3, { close: true });
    await service(prefix, db.url);
    await waitFor(async () => (await store.hot.getMeta(id)) === null, { what: 'first migration' });
    await store.append('t1', message(id, 3));
    await store.close('t1', id);
    await waitFor(async () => (await store.hot.getMeta(id)) === null, { what: 'second migration' });
    expect((await readAllArchivedMessages(store.db, id)).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(await getArchivedConversation(store.db, id)).toMatchObject({ messageCount: 4, status: 'closed' });
  });
});
