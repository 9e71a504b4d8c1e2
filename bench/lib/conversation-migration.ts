// The `migration` row of the conversation benchmark: how many messages per second the migration
// loop moves from Redis to PostgreSQL (target >= 20,000). Closed conversations are seeded through
// the real conversation store, then the service's own loop (same classes and defaults as
// apps/migration) drains the due set in this process, so each conversation's latency is measured.
import { randomUUID } from 'node:crypto';
import { urlForDatabase, withAdmin } from '@parley/testing/pg';
import { deletePrefix, uniquePrefix } from '@parley/testing/tools';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { MigrationLoop } from '../../apps/migration/src/domain/loop.js';
import { Migrator, type GroupOutcome, type MigrateOptions } from '../../apps/migration/src/domain/migrator.js';
import { MigrationCounters } from '../../apps/migration/src/stores/migration-counters.js';
import { env } from '../../apps/migration/src/env.js';
import { conversationStore, message } from '../../apps/migration/src/testing/harness.js';
import { createDb, createPool } from '../../packages/db/src/client.js';
import { assertSchemaCurrent, migrateDatabase } from '../../packages/db/src/migrate.js';
import { percentiles, type BenchRow } from './results.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONVERSATIONS = Number(process.env.BENCH_MIGRATION_CONVERSATIONS ?? 2_000);
const MESSAGES = Number(process.env.BENCH_MIGRATION_MESSAGES ?? 50);

/** Times every group (one transaction) the loop moves. */
class TimedMigrator extends Migrator {
  readonly latencies: number[] = [];
  override async migrateGroup(ids: string[], opts?: MigrateOptions): Promise<GroupOutcome> {
    const t = performance.now();
    const r = await super.migrateGroup(ids, opts);
    this.latencies.push(performance.now() - t);
    return r;
  }
}

async function seed(redis: Redis, prefix: string, pool: ReturnType<typeof createPool>): Promise<number> {
  const store = conversationStore(redis, prefix, pool);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < CONVERSATIONS) {
        const n = next++;
        const id = `bench-mig-${n}`;
        const tenant = `tenant-${n % 8}`;
        for (let i = 0; i < MESSAGES; i++) {
          const m = message(id, i, { content: `${i % 2 ? 'Sure, here is what I found about' : 'Can you tell me about'} order ${id}/${i}: `.repeat(3) });
          await store.append(tenant, m);
        }
        await store.close(tenant, id);
      }
    }),
  );
  return CONVERSATIONS * MESSAGES;
}

/** Seeds a fresh database and prefix, drains them with the migration loop, cleans up. */
export async function benchMigration(): Promise<BenchRow> {
  const prefix = uniquePrefix('bench-mig');
  const dbName = `parley_bench_mig_${Date.now()}_${randomUUID().slice(0, 6)}`;
  await withAdmin((c) => c.query(`create database "${dbName}"`));
  const dbUrl = urlForDatabase(dbName, adminUrl);
  const redis = new Redis(redisUrl);
  const parsed = env.parse('migration', {});
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const { config } = parsed;
  const pool = createPool(dbUrl, { max: config.pgPoolSize, applicationName: 'parley-bench-migration' });
  try {
    await migrateDatabase(dbUrl);
    const total = await seed(redis, prefix, pool);
    const hot = conversationStore(redis, prefix, pool, config.loop.idleMs).hot;
    const counters = new MigrationCounters(redis, hot);
    const migrator = new TimedMigrator({
      hot,
      db: createDb(pool),
      schema: { checkSchema: () => assertSchemaCurrent(pool) },
      counters,
      leaseMs: config.leaseMs,
    });
    const loop = new MigrationLoop({ hot, migrator, counters, config: config.loop, log: pino({ level: 'warn' }) });

    const started = performance.now();
    loop.start();
    while ((await hot.dueCount()) > 0) await new Promise((r) => setTimeout(r, 5));
    const elapsed = (performance.now() - started) / 1000;
    await loop.stop();

    const archived = await pool.query<{ n: string }>('select count(*) as n from messages');
    if (Number(archived.rows[0]?.n) !== total) throw new Error(`archive holds ${archived.rows[0]?.n} messages, expected ${total}`);
    const { p50, p99 } = percentiles(migrator.latencies);
    return {
      case: 'migration',
      concurrency: config.loop.concurrency,
      ops_per_s: total / elapsed,
      p50_ms: p50,
      p99_ms: p99,
      conversations_per_s: CONVERSATIONS / elapsed,
      group_size: config.loop.groupSize,
      messages_per_conversation: MESSAGES,
    };
  } finally {
    await pool.end();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await withAdmin((c) => c.query(`drop database if exists "${dbName}" with (force)`));
  }
}

export const migrationNote = `migration: ${CONVERSATIONS} closed conversations x ${MESSAGES} messages drained by the migration loop (service defaults), one PG transaction per group of conversations (MIGRATION_GROUP_SIZE); ops_per_s = messages/s, p50/p99 = per group (lease → snapshot → copy → delete); target >= 20,000 messages/s`;
