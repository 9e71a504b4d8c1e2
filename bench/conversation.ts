// npm run bench:conversation — save_message through the bus against the real conversation service
// (its own process), and get_context measured service-side (no bus) on a 1,000-message conversation.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createBus } from '@parley/bus';
import { catalog } from '@parley/contracts';
import { urlForDatabase, withAdmin } from '@parley/testing/pg';
import { deletePrefix, spawnTs, uniquePrefix, type TsProcess } from '@parley/testing/tools';
import { Redis } from 'ioredis';
import { createPool } from '../packages/db/src/client.js';
import { migrateDatabase } from '../packages/db/src/migrate.js';
import { getContext } from '../apps/conversation/src/domain/context.js';
import { createConversationDeps } from '../apps/conversation/src/wiring.js';
import { saveMessage } from '../apps/conversation/src/domain/save.js';
import { closedLoop, percentiles, report, type BenchRow } from './lib/results.js';
import { benchMigration, migrationNote } from './lib/conversation-migration.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = 64;
const CONVERSATIONS = 256;
const CONTEXT_MESSAGES = 1000;
const CONTEXT_BUDGET = 4000;
const CONTEXT_RUNS = Number(process.env.BENCH_CONTEXT_RUNS ?? 5000);
const mainFile = fileURLToPath(new URL('../apps/conversation/src/main.ts', import.meta.url));

const sentence = (i: number) => `Message ${i}: ` + 'the quick brown fox jumps over the lazy dog and asks about the order status '.repeat(1 + (i % 4));

async function benchSaveMessage(prefix: string, dbUrl: string): Promise<BenchRow> {
  const service: TsProcess = spawnTs(mainFile, { REDIS_URL: redisUrl, DATABASE_URL: dbUrl, BUS_PREFIX: prefix, HTTP_PORT: '0', LOG_LEVEL: 'warn' });
  const bus = createBus({ catalog, redis: redisUrl, prefix, service: 'bench' });
  try {
    await waitReady(bus);
    let n = 0;
    const op = () => {
      n += 1;
      const role = n % 2 ? 'user' : 'assistant';
      return bus.call(
        'conversation.save_message',
        {
          messageId: randomUUID(),
          conversationId: `bench-${n % CONVERSATIONS}`,
          role,
          content: sentence(n),
          latencyMs: role === 'assistant' ? 800 : undefined,
        },
        { tenantId: 'bench' },
      );
    };
    await closedLoop(CONCURRENCY, 1000, op); // warm-up: creates the conversations, JITs the paths
    const r = await closedLoop(CONCURRENCY, seconds * 1000, op);
    const { p50, p99 } = percentiles(r.latencies);
    return { case: 'save_message', concurrency: CONCURRENCY, ops_per_s: r.opsPerS, p50_ms: p50, p99_ms: p99 };
  } finally {
    await bus.close(0);
    await service.kill('SIGTERM');
  }
}

/** The service logs "ready" at info, which LOG_LEVEL=warn hides: a successful call is the readiness signal. */
async function waitReady(bus: ReturnType<typeof createBus<typeof catalog>>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await bus.call('conversation.list', { limit: 1 }, { tenantId: 'bench' }, { timeoutMs: 1_000 });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error('conversation service did not answer within 30 s', { cause: err });
    }
  }
}

async function benchGetContext(prefix: string, dbUrl: string): Promise<BenchRow> {
  const redis = new Redis(redisUrl);
  const pool = createPool(dbUrl, { max: 2 });
  try {
    const deps = createConversationDeps(redis, pool, prefix, {
      hot: { idleMs: 30 * 60_000, ttlMs: 3_600_000 },
      db: { poolMax: 2 },
    });
    const conversationId = 'bench-context';
    for (let i = 1; i <= CONTEXT_MESSAGES; i++) {
      await saveMessage(deps, { tenantId: 'bench' }, { messageId: randomUUID(), conversationId, role: i % 2 ? 'user' : 'assistant', content: sentence(i) });
    }
    const req = { conversationId, maxTokens: CONTEXT_BUDGET };
    for (let i = 0; i < 500; i++) await getContext(deps, 'bench', req);
    const latencies: number[] = [];
    let kept = 0;
    const started = performance.now();
    for (let i = 0; i < CONTEXT_RUNS; i++) {
      const t = performance.now();
      const ctx = await getContext(deps, 'bench', req);
      latencies.push(performance.now() - t);
      kept = ctx.messages.length - 1;
    }
    const elapsed = (performance.now() - started) / 1000;
    const { p50, p99 } = percentiles(latencies);
    return { case: 'get_context', concurrency: 1, ops_per_s: CONTEXT_RUNS / elapsed, p50_ms: p50, p99_ms: p99, messages_in_context: kept };
  } finally {
    redis.disconnect();
    await pool.end();
  }
}

async function main(): Promise<void> {
  const prefix = uniquePrefix('bench-conv');
  const dbName = `parley_bench_${Date.now()}_${randomUUID().slice(0, 6)}`;
  await withAdmin((c) => c.query(`create database "${dbName}"`));
  const dbUrl = urlForDatabase(dbName, adminUrl);
  const redis = new Redis(redisUrl);
  try {
    await migrateDatabase(dbUrl);
    const save = await benchSaveMessage(prefix, dbUrl);
    const context = await benchGetContext(prefix, dbUrl);
    const migration = await benchMigration();
    const rows = [save, context, migration];
    report('conversation', rows, [
      `save_message: bus.call from ${CONCURRENCY} loops over ${CONVERSATIONS} conversations, service in its own process, ${seconds} s`,
      `get_context: service-side (no bus), ${CONTEXT_MESSAGES}-message conversation, ${CONTEXT_BUDGET}-token budget, ${CONTEXT_RUNS} sequential calls; target p50 <= 2 ms`,
      migrationNote,
    ]);
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await withAdmin((c) => c.query(`drop database if exists "${dbName}" with (force)`));
  }
}

await main();
