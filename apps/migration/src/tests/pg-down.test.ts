// PostgreSQL goes away while the migration service runs (a TCP proxy in front of the real server
// is unplugged): conversations stay hot, /readyz says why, and everything moves once it is back.
import { createBus } from '@parley/bus';
import { ActionError, catalog } from '@parley/contracts';
import { pgTest, redisUrl, waitFor } from '@parley/testing';
import { afterEach, describe, expect } from 'vitest';
import {
  archiveCounts,
  conversationStore,
  pgProxy,
  seedConversation,
  startMigration,
  statsAfter,
  uid,
  type MigrationProcess,
  type PgProxy,
} from '../testing/harness.js';

const started: MigrationProcess[] = [];
const proxies: PgProxy[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function setup(prefix: string, dbUrl: string, opts: { unplugged?: boolean; env?: Record<string, string> } = {}) {
  const proxy = await pgProxy(dbUrl);
  proxies.push(proxy);
  if (opts.unplugged) await proxy.unplug();
  const p = await startMigration({
    BUS_PREFIX: prefix,
    DATABASE_URL: proxy.url(dbUrl),
    MIGRATION_INTERVAL_MS: '50',
    MIGRATION_BACKOFF_MS: '100',
    MIGRATION_BACKOFF_MAX_MS: '400',
    ...opts.env,
  });
  started.push(p);
  return { proxy, p };
}

const notReady = async (p: MigrationProcess) => {
  const r = await p.readyz();
  return r.status === 503 && (r.body.reasons ?? []).some((x) => x.startsWith('postgres: PostgreSQL is not reachable'));
};

describe('PostgreSQL unavailable', () => {
  pgTest('down mid-run: nothing is lost or copied twice, readiness fails, and it recovers when PostgreSQL is back', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    // Slow enough that the outage surely lands in the middle of the backlog, with copies in flight.
    const { proxy, p } = await setup(prefix, db.url, { env: { MIGRATION_BATCH_SIZE: '10', MIGRATION_CONCURRENCY: '2' } });
    expect((await p.readyz()).status).toBe(200);

    const ids = Array.from({ length: 60 }, () => uid());
    await Promise.all(ids.map((id) => seedConversation(store, 't1', id, 120, { close: true })));
    await waitFor(async () => (await archiveCounts(db.pool, ids)).conversations > 0, { what: 'migration to start' });
    await proxy.unplug();
    await waitFor(() => notReady(p), { what: '/readyz to report PostgreSQL' });
    // Logged once the groups in flight at the outage have ended: from then on nothing may leave Redis.
    const outageLogged = () => p.logLines().some((l) => l.msg === 'PostgreSQL unavailable; conversations stay in Redis, retrying with backoff');
    await waitFor(outageLogged, { what: 'the loop to back off' });
    const during = await store.hot.dueCount();
    await new Promise((r) => setTimeout(r, 600)); // several backoff rounds
    expect(await store.hot.dueCount()).toBe(during); // nothing leaves Redis while the archive is unreachable

    const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
    try {
      expect(during).toBeGreaterThan(0);
      const stats = await bus.call('migration.get_stats', {}, { tenantId: 't1' });
      expect(stats.failed).toBeGreaterThan(0);
      expect(stats.pending).toBe(during);
      await proxy.plug();
      await waitFor(async () => (await store.hot.dueCount()) === 0, { timeoutMs: 20_000, what: 'the backlog to drain after recovery' });
      expect(await archiveCounts(db.pool, ids)).toMatchObject({ conversations: 60, messages: 60 * 120, duplicateSeqs: 0 });
      expect((await p.readyz()).status).toBe(200);
      expect(p.logLines().some((l) => l.msg === 'PostgreSQL is back; migration resumed')).toBe(true);
      expect(await statsAfter(bus, 60)).toMatchObject({ migratedConversations: 60, migratedMessages: 7200, pending: 0 });
    } finally {
      await bus.close(0);
    }
  });

  pgTest(
    'down at start: the service starts anyway, keeps everything hot, answers unavailable, and migrates once PostgreSQL appears',
    async ({ prefix, redis, db }) => {
      const store = conversationStore(redis, prefix, db.pool);
      const ids = [uid(), uid(), uid()];
      for (const id of ids) await seedConversation(store, 't1', id, 6, { close: true });
      const { proxy, p } = await setup(prefix, db.url, { unplugged: true });
      expect(await notReady(p)).toBe(true);

      const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
      try {
        const err = await bus.call('migration.migrate_conversation', { conversationId: ids[0]! }, { tenantId: 't1' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ActionError);
        expect(err).toMatchObject({ code: 'unavailable', retryable: true });
        await new Promise((r) => setTimeout(r, 300));
        for (const id of ids) expect((await store.hot.getMeta(id))?.messageCount).toBe(6);

        await proxy.plug();
        await waitFor(async () => (await store.hot.dueCount()) === 0, { what: 'migration after PostgreSQL appeared' });
        expect(await archiveCounts(db.pool, ids)).toMatchObject({ conversations: 3, messages: 18, duplicateSeqs: 0 });
        await waitFor(async () => (await p.readyz()).status === 200, { what: '/readyz to recover' });
      } finally {
        await bus.close(0);
      }
    },
  );

  pgTest('a closed port (127.0.0.1:1): ready stays false and the conversations stay hot', async ({ prefix, redis, db }) => {
    const store = conversationStore(redis, prefix, db.pool);
    const id = uid();
    await seedConversation(store, 't1', id, 4, { close: true });
    const p = await startMigration({
      BUS_PREFIX: prefix,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/parley',
      MIGRATION_INTERVAL_MS: '50',
      MIGRATION_BACKOFF_MS: '50',
    });
    started.push(p);
    await new Promise((r) => setTimeout(r, 500));
    const r = await p.readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.postgres).toContain('ECONNREFUSED');
    expect((await store.hot.getMeta(id))?.messageCount).toBe(4);
    expect(await store.hot.dueCount()).toBe(1);
  });
});
