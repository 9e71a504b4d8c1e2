// npm run bench:peers — one echo request/reply through the Parley bus, Moleculer (Redis transporter) and
// BullMQ (add + waitUntilFinished), caller here and worker in its own process, all in the same run.
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Queue, QueueEvents } from 'bullmq';
import moleculer from 'moleculer';
import { createBus } from '@parley/bus';
import { deletePrefix, spawnTs, uniquePrefix } from '@parley/testing/tools';
import { echoCatalog } from '../packages/bus/src/testing/echo-catalog.js';
import { closedLoop, percentiles, report, type BenchRow } from './lib/results.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = (process.env.BENCH_LEVELS ?? '1,64').split(',').map(Number);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Case {
  name: string;
  worker: { file: string; args: string[] };
  /** Connects the caller once the worker is up; returns the request and how to let go. */
  open(): Promise<{ op: () => Promise<unknown>; close: () => Promise<void> }>;
}

/** A peer that fails (its worker does not start, a call times out) is a row with its error, never a crashed suite. */
function failedRow(c: Case, level: number, err: unknown): BenchRow {
  const error = err instanceof Error ? err.message : String(err);
  console.log(`${c.name} @${level}: failed: ${error}`);
  return { case: c.name, concurrency: level, ops_per_s: NaN, p50_ms: NaN, p99_ms: NaN, error };
}

async function measure(c: Case): Promise<BenchRow[]> {
  const worker = spawnTs(c.worker.file, { REDIS_URL: url }, c.worker.args);
  let caller: Awaited<ReturnType<Case['open']>> | undefined;
  const rows: BenchRow[] = [];
  try {
    await worker.waitForOutput('bench worker ready', 30_000);
    caller = await c.open();
    for (const level of levels) {
      try {
        await closedLoop(level, 500, caller.op); // warm-up: JIT, connections, the peer's discovery
        const r = await closedLoop(level, seconds * 1000, caller.op);
        const { p50, p99 } = percentiles(r.latencies);
        rows.push({ case: c.name, concurrency: level, ops_per_s: r.opsPerS, p50_ms: p50, p99_ms: p99 });
        console.log(`${c.name} @${level}: ${Math.round(r.opsPerS)} ops/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
      } catch (err) {
        rows.push(failedRow(c, level, err));
      }
    }
  } catch (err) {
    for (const level of levels.slice(rows.length)) rows.push(failedRow(c, level, err));
  } finally {
    await caller?.close().catch((err: unknown) => console.log(`${c.name}: close failed: ${String(err)}`));
    await worker.kill('SIGTERM');
  }
  return rows;
}

const prefix = uniquePrefix('bench-peers');
const redisUrl = new URL(url);
const bullConnection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379), maxRetriesPerRequest: null };

const cases: Case[] = [
  {
    name: 'parley.bus',
    worker: { file: here('./bus-worker.ts'), args: ['bus', `${prefix}:bus`] },
    async open() {
      const bus = createBus({ catalog: echoCatalog, redis: url, prefix: `${prefix}:bus`, service: 'bench' });
      return { op: () => bus.call('echo.ping', { n: 1 }, { tenantId: 'bench' }), close: () => bus.close(0) };
    },
  },
  {
    name: 'moleculer.redis',
    // The namespace keeps this run's pub/sub channels apart from any other broker on the same Redis.
    worker: { file: here('./peers-moleculer-worker.ts'), args: [`${prefix.replaceAll(':', '-')}`] },
    async open() {
      const broker = new moleculer.ServiceBroker({
        namespace: prefix.replaceAll(':', '-'),
        nodeID: `peers-caller-${process.pid}`,
        transporter: url,
        logger: false,
      });
      await broker.start();
      await broker.waitForServices(['echo'], 15_000);
      return { op: () => broker.call('echo.ping', { n: 1 }), close: () => broker.stop() };
    },
  },
  {
    name: 'bullmq',
    worker: { file: here('./peers-bullmq-worker.ts'), args: [`${prefix}:bullmq`, 'echo'] },
    async open() {
      const queue = new Queue('echo', { connection: bullConnection, prefix: `${prefix}:bullmq` });
      const events = new QueueEvents('echo', { connection: bullConnection, prefix: `${prefix}:bullmq` });
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      // Every in-flight add and wait listens for 'closing'; 64 of them are expected here, not a leak.
      queue.setMaxListeners(1024);
      events.setMaxListeners(1024);
      // Completed jobs are kept (bounded): waitUntilFinished reads the result of a job that finished before it subscribed.
      const op = async () => (await queue.add('ping', { n: 1 }, { removeOnComplete: { count: 10_000 }, removeOnFail: true })).waitUntilFinished(events, 30_000);
      return { op, close: async () => void (await Promise.all([events.close(), queue.close()])) };
    },
  },
];

const only = process.env.BENCH_ONLY?.split(',');
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const cleaner = new Redis(url);
try {
  const rows: BenchRow[] = [];
  for (const c of cases) if (!only || only.includes(c.name)) rows.push(...(await measure(c)));
  for (const row of rows) {
    const bus = rows.find((r) => r.case === 'parley.bus' && r.concurrency === row.concurrency);
    if (bus) row.vs_bus_pct = (row.ops_per_s / bus.ops_per_s) * 100;
  }
  report('peers', rows, [
    `${seconds}s per level after a 0.5 s warm-up; same echo request; worker and caller in separate processes; Redis on loopback.`,
    'Delivery differs: the bus and BullMQ keep each request in Redis until a worker acknowledges it; Moleculer publishes over pub/sub, so a request sent while no worker listens is lost.',
    `${cpus().length} cores; load average at start ${load}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (the machine is shared).`,
  ]);
} finally {
  await deletePrefix(cleaner, prefix);
  cleaner.disconnect();
}
process.exit(0);
