// kill -9 of the migration process at every step of a migration: after a restart nothing is lost
// and nothing is duplicated. MIGRATION_CRASH_AFTER makes the process SIGKILL itself right there.
import { createBus } from '@parley/bus';
import { catalog } from '@parley/contracts';
import { pgTest, redisUrl, spawnTs, waitFor } from '@parley/testing';
import { afterEach, describe, expect } from 'vitest';
import {
  archiveCounts,
  conversationStore,
  migrationMain,
  readAllArchivedMessages,
  seedConversation,
  startMigration,
  statsAfter,
  uid,
  type MigrationProcess,
} from '../testing/harness.js';

const started: MigrationProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
});

async function start(prefix: string, dbUrl: string, env: Record<string, string> = {}) {
  // A short lease: the dead process's lease must expire before the restarted one can take over.
  const p = await startMigration({ BUS_PREFIX: prefix, DATABASE_URL: dbUrl, MIGRATION_INTERVAL_MS: '50', MIGRATION_LEASE_MS: '800', ...env });
  started.push(p);
  return p;
}

function exited(p: MigrationProcess): Promise<NodeJS.Signals | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve(p.child.signalCode);
  return new Promise((resolve) => p.child.once('exit', (_code, signal) => resolve(signal)));
}

describe('kill -9 during migration', () => {
  pgTest(
    'between copy and delete: the archive has the rows, Redis still has the conversation; the restart finishes without duplicates',
    async ({ prefix, redis, db }) => {
      const store = conversationStore(redis, prefix, db.pool);
      const ids = [uid(), uid(), uid(), uid()];
      for (const id of ids) await seedConversation(store, 't1', id, 25, { close: true });
      const before = new Map(await Promise.all(ids.map(async (id) => [id, (await store.hot.readAll(id))!.messages] as const)));

      const doomed = await start(prefix, db.url, { MIGRATION_CRASH_AFTER: 'copy', MIGRATION_CONCURRENCY: '1' });
      expect(await exited(doomed)).toBe('SIGKILL');
      const copied = await archiveCounts(db.pool, ids);
      expect(copied.messages).toBeGreaterThanOrEqual(25); // at least the one it died after was committed…
      expect(await Promise.all(ids.map((id) => store.hot.getMeta(id).then(Boolean)))).toEqual([true, true, true, true]); // …and none was deleted

      await start(prefix, db.url);
      await waitFor(async () => (await store.hot.dueCount()) === 0, { what: 'the restarted service to drain the due set' });
      const after = await archiveCounts(db.pool, ids);
      expect(after).toMatchObject({ conversations: 4, messages: 100, duplicateSeqs: 0 });
      for (const id of ids) {
        expect(await readAllArchivedMessages(store.db, id)).toEqual(before.get(id));
        expect(await store.hot.getMeta(id)).toBeNull();
      }
      const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
      try {
        expect(await statsAfter(bus, 4)).toMatchObject({ migratedConversations: 4, migratedMessages: 100, pending: 0 });
      } finally {
        await bus.close(0);
      }
    },
  );

  for (const step of ['lease', 'snapshot', 'delete'] as const) {
    pgTest(`right after the ${step} step: nothing lost, nothing duplicated after the restart`, async ({ prefix, redis, db }) => {
      const store = conversationStore(redis, prefix, db.pool);
      const ids = [uid(), uid()];
      for (const id of ids) await seedConversation(store, 't1', id, 10, { close: true });
      const doomed = await start(prefix, db.url, { MIGRATION_CRASH_AFTER: step, MIGRATION_CONCURRENCY: '1' });
      expect(await exited(doomed)).toBe('SIGKILL');
      await start(prefix, db.url);
      await waitFor(async () => (await store.hot.dueCount()) === 0, { what: 'the restarted service to drain the due set' });
      expect(await archiveCounts(db.pool, ids)).toMatchObject({ conversations: 2, messages: 20, duplicateSeqs: 0 });
      for (const id of ids) {
        expect((await readAllArchivedMessages(store.db, id)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(await store.hot.getMeta(id)).toBeNull();
      }
    });
  }

  pgTest('SIGTERM mid-drain: the groups in flight finish, the process exits 0, the next one takes over without duplicates', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const ids = Array.from({ length: 80 }, () => uid());
    await Promise.all(ids.map((id) => seedConversation(store, 't1', id, 40, { close: true })));
    const first = await start(prefix, db.url, { MIGRATION_BATCH_SIZE: '10', MIGRATION_GROUP_SIZE: '5', MIGRATION_CONCURRENCY: '2' });
    await waitFor(async () => (await archiveCounts(db.pool, ids)).conversations > 0, { what: 'migration to start' });
    expect(await first.kill('SIGTERM')).toBe(0);
    const stopped = first.logLines().map((l) => l.msg);
    expect(stopped).toContain('stopped');
    const left = await store.hot.dueCount();
    expect(left).toBeGreaterThan(0);
    // Whatever the first process archived is gone from Redis, and nothing else is.
    const archived = await archiveCounts(db.pool, ids);
    expect(archived.conversations).toBe(ids.length - left);

    await start(prefix, db.url);
    await waitFor(async () => (await store.hot.dueCount()) === 0, { what: 'the second process to finish' });
    expect(await archiveCounts(db.pool, ids)).toMatchObject({ conversations: 80, messages: 3200, duplicateSeqs: 0 });
  });

  pgTest('the crash hook is refused in production mode', async ({ prefix, db }) => {
    const p = spawnTs(migrationMain, {
      REDIS_URL: redisUrl,
      BUS_PREFIX: prefix,
      DATABASE_URL: db.url,
      PARLEY_MODE: 'production',
      MIGRATION_CRASH_AFTER: 'copy',
      HTTP_PORT: '0',
    });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(p.output()).toContain('MIGRATION_CRASH_AFTER: is a test hook and is refused in production mode');
  });
});
