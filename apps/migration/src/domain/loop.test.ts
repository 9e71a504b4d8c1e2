import { getArchivedConversation, HotStore, migrationDueKey } from '@parley/conversation-store';
import { assertSchemaCurrent } from '@parley/db';
import { createDb } from '@parley/db/client';
import { pgTest } from '@parley/testing';
import { pino } from 'pino';
import { describe, expect } from 'vitest';
import type { LoopConfig } from '../env.js';
import { conversationStore, message, seedConversation, uid } from '../testing/harness.js';
import { MigrationLoop } from './loop.js';
import { Migrator, NotFoundError } from './migrator.js';
import { MigrationCounters } from '../stores/migration-counters.js';

const loopConfig: LoopConfig = {
  enabled: true,
  intervalMs: 50,
  idleMs: 60_000,
  batchSize: 50,
  concurrency: 4,
  groupSize: 3,
  backoffMs: 100,
  backoffMaxMs: 1_000,
};

/** The service's parts, in this process: the loop is driven tick by tick. */
const test = pgTest.extend('parts', async ({ prefix, redis, db }) => {
  // The conversation service's idle threshold (100 ms) is shorter than the migration's (60 s).
  const store = conversationStore(redis, prefix, db.pool, 100);
  const hot = new HotStore(redis, { prefix, idleMs: loopConfig.idleMs });
  const counters = new MigrationCounters(redis, hot);
  const migrator = new Migrator({ hot, db: createDb(db.pool), schema: { checkSchema: () => assertSchemaCurrent(db.pool) }, counters, leaseMs: 5_000 });
  const loop = new MigrationLoop({ hot, migrator, counters, config: loopConfig, log: pino({ level: 'silent' }) });
  return { store, hot, counters, migrator, loop };
});

// Last activity strictly increases per conversation, so a burst of saves can put it (and a closed
// conversation's due time) a few ms ahead of the clock.
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('migration loop', () => {
  test('migrates closed conversations; an open one due by the conversation service but not idle by ours is postponed', async ({ parts, redis, prefix }) => {
    const { store, loop, hot } = parts;
    const closed = uid();
    const open = uid();
    await seedConversation(store, 't1', closed, 3, { close: true });
    await seedConversation(store, 't1', open, 2);
    await new Promise((r) => setTimeout(r, 150));
    const r = await loop.tick();
    expect(r).toMatchObject({ picked: 2, migrated: 1, messages: 3, skipped: 1, failed: 0, unavailable: false });
    expect(await hot.getMeta(closed)).toBeNull();
    const meta = await hot.getMeta(open);
    expect(Number(await redis.zscore(migrationDueKey(prefix), open))).toBe(meta!.lastActivityAt + loopConfig.idleMs);
    expect((await loop.tick()).picked).toBe(0);
  });

  test('an open conversation idle past both thresholds is migrated and archived as open', async ({ parts }) => {
    const { store, hot, migrator, counters } = parts;
    const loop = new MigrationLoop({ hot, migrator, counters, config: { ...loopConfig, idleMs: 100 }, log: pino({ level: 'silent' }) });
    const id = uid();
    await seedConversation(store, 't1', id, 3);
    expect(await loop.tick()).toMatchObject({ picked: 0 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await loop.tick()).toMatchObject({ picked: 1, migrated: 1, messages: 3 });
    expect(await getArchivedConversation(store.db, id)).toMatchObject({ status: 'open', messageCount: 3 });
  });

  test('a conversation PostgreSQL rejects stays hot and is held back; the rest of the batch moves; no outage', async ({ parts }) => {
    const { store, loop, hot, counters } = parts;
    const poison = uid();
    const fine = [uid(), uid()];
    // PostgreSQL text cannot hold NUL: a failure of this conversation, not of the database.
    await store.append('t1', message(poison, 0, { content: 'nul \u0000 byte' }));
    await store.close('t1', poison);
    for (const id of fine) await seedConversation(store, 't1', id, 2, { close: true });
    await settle();
    const first = await loop.tick();
    expect(first).toMatchObject({ migrated: 2, failed: 1, unavailable: false });
    expect(loop.outage()).toBeNull();
    expect((await hot.getMeta(poison))?.messageCount).toBe(1);
    expect(await hot.dueCount()).toBe(1);
    // Held back by this replica until its backoff ends, without blocking the due set for others.
    expect(await loop.tick()).toMatchObject({ picked: 0 });
    expect(await counters.read(Date.now())).toMatchObject({ migratedConversations: 2, failed: 1, pending: 1 });
  });

  test('a due entry whose hot copy expired is dropped; a paused loop does nothing', async ({ parts, redis }) => {
    const { store, loop, hot, counters } = parts;
    const gone = uid();
    await seedConversation(store, 't1', gone, 2, { close: true });
    const k = hot.keys(gone);
    await redis.del(k.meta, k.messages, k.ids, k.facts); // what the safety TTL does
    const kept = uid();
    await seedConversation(store, 't1', kept, 2, { close: true });
    await settle();
    await counters.setPaused(true);
    expect(await loop.tick()).toMatchObject({ picked: 0 });
    await counters.setPaused(false);
    expect(await loop.tick()).toMatchObject({ picked: 2, migrated: 1, skipped: 1 });
    expect(await hot.dueCount()).toBe(0);
  });

  test('start and stop run the loop in the background', async ({ parts }) => {
    const { store, loop, hot } = parts;
    const id = uid();
    await seedConversation(store, 't1', id, 2, { close: true });
    loop.start();
    try {
      for (let i = 0; i < 100 && (await hot.getMeta(id)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await hot.getMeta(id)).toBeNull();
    } finally {
      await loop.stop();
    }
  });
});

describe('migrator', () => {
  test('answers leased while another holds the lease, and not found for another tenant', async ({ parts }) => {
    const { store, migrator, hot } = parts;
    const id = uid();
    await seedConversation(store, 't1', id, 2);
    const token = await hot.acquireLease(id, 5_000);
    expect(await migrator.migrate(id)).toEqual({ migrated: false, reason: 'leased', messages: 0 });
    await hot.releaseLease(id, token!);
    await expect(migrator.migrate(id, { tenantId: 't2' })).rejects.toBeInstanceOf(NotFoundError);
    // The lease was given back: the right tenant migrates it, however recent.
    expect(await migrator.migrate(id, { tenantId: 't1' })).toMatchObject({ migrated: true, messages: 2, inserted: 2 });
    await expect(migrator.migrate(id, { tenantId: 't2' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(migrator.migrate(uid(), { tenantId: 't1' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
