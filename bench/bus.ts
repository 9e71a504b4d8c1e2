// npm run bench:bus — bus.call vs a raw ioredis request/reply, worker in another process; then bus.call
// again on a 3-master Redis Cluster started for the run (bus.call.cluster), beside the single node.
import { Redis } from 'ioredis';
import { clusterTarget, createBus, type RedisTarget } from '@parley/bus';
import { deletePrefix, spawnTs, startRedisCluster, uniquePrefix } from '@parley/testing/tools';
import { fileURLToPath } from 'node:url';
import { echoCatalog } from '../packages/bus/src/testing/echo-catalog.js';
import { cpuPerOp, cpuSnapshot } from './lib/cpu-time.js';
import { closedLoop, percentiles, report, type BenchRow } from './lib/results.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const levels = (process.env.BENCH_LEVELS ?? '1,64,256').split(',').map(Number);
const clusterLevels = (process.env.BENCH_CLUSTER_LEVELS ?? '1,64').split(',').map(Number);
const workerFile = fileURLToPath(new URL('./bus-worker.ts', import.meta.url));

const infoClient = new Redis(url);

type RedisInfo = { info(section: 'cpu'): Promise<string> };

async function withWorker<T>(
  mode: 'bus' | 'raw',
  prefix: string,
  fn: (workerPid: number | undefined) => Promise<T>,
  env: Record<string, string> = {},
): Promise<T> {
  // BENCH_NODE_ARGS adds node flags to the worker, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const worker = spawnTs(workerFile, { REDIS_URL: url, ...env }, [mode, prefix], process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean));
  await worker.waitForOutput('bench worker ready');
  try {
    return await fn(worker.child.pid);
  } finally {
    await worker.kill('SIGTERM');
  }
}

/**
 * Each level's throughput and latency, and the CPU µs per call the caller, the worker and Redis spent
 * (on a cluster: every node, replicas included, since replication is part of a write's cost).
 */
async function measure(
  name: string,
  op: () => Promise<unknown>,
  workerPid: number | undefined,
  at: { levels: number[]; redis: RedisInfo | RedisInfo[] } = { levels, redis: infoClient },
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const c of at.levels) {
    await closedLoop(c, 500, op); // warm-up
    const pids = { caller: process.pid, worker: workerPid };
    const before = await cpuSnapshot(pids, { redis: at.redis });
    const r = await closedLoop(c, seconds * 1000, op);
    const cpu = cpuPerOp(before, await cpuSnapshot(pids, { redis: at.redis }), r.ops);
    const us = (k: string) => (cpu[k] ?? NaN) * 1000;
    const { p50, p99 } = percentiles(r.latencies);
    rows.push({
      case: name,
      concurrency: c,
      ops_per_s: r.opsPerS,
      p50_ms: p50,
      p99_ms: p99,
      caller_cpu_us: us('caller'),
      worker_cpu_us: us('worker'),
      redis_cpu_us: us('redis'),
    });
  }
  return rows;
}

async function benchBus(prefix: string, redis: RedisTarget = url, cluster?: { nodesEnv: string; info: RedisInfo[] }): Promise<BenchRow[]> {
  const bus = createBus({ catalog: echoCatalog, redis, prefix, service: 'bench' });
  const call = () => bus.call('echo.ping', { n: 1 }, { tenantId: 'bench' });
  try {
    if (!cluster) return await withWorker('bus', prefix, (pid) => measure('bus.call', call, pid));
    return await withWorker('bus', prefix, (pid) => measure('bus.call.cluster', call, pid, { levels: clusterLevels, redis: cluster.info }), {
      REDIS_CLUSTER_NODES: cluster.nodesEnv,
    });
  } finally {
    await bus.close(0);
  }
}

/**
 * bus.call on a Redis Cluster of 3 masters and 3 replicas from this machine's redis-server (loopback,
 * no persistence), the same caller and worker code as a service run with REDIS_CLUSTER_NODES.
 */
async function benchBusCluster(prefix: string): Promise<BenchRow[]> {
  const cluster = await startRedisCluster();
  const info = cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }));
  try {
    return await benchBus(prefix, clusterTarget(cluster.nodesEnv), { nodesEnv: cluster.nodesEnv, info });
  } finally {
    for (const c of info) c.disconnect();
    await cluster.stop();
  }
}

async function benchRaw(prefix: string): Promise<BenchRow[]> {
  const cmd = new Redis(url, { enableAutoPipelining: true });
  const read = new Redis(url);
  const replies = `${prefix}:raw:reply`;
  const waiting = new Map<string, () => void>();
  // From the id of a first entry, not `$`: with `$`, a reply written between two blocking reads that
  // timed out would be skipped, and its call would wait for ever (seen on a loaded host).
  let last = (await cmd.xadd(replies, '*', 'c', '0')) ?? '0';
  let running = true;
  const loop = (async () => {
    while (running) {
      const res = (await read.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', replies, last)) as Array<[string, Array<[string, string[]]>]> | null;
      const entries = res?.[0]?.[1];
      if (!entries) continue;
      for (const [id, f] of entries) {
        last = id;
        const w = waiting.get(f[1]!);
        waiting.delete(f[1]!);
        w?.();
      }
    }
  })();
  let n = 0;
  const op = () =>
    new Promise<void>((resolve) => {
      const corr = String(++n);
      waiting.set(corr, resolve);
      void cmd.xadd(`${prefix}:raw:req`, '*', 'r', replies, 'c', corr);
    });
  try {
    return await withWorker('raw', prefix, (pid) => measure('raw-baseline', op, pid));
  } finally {
    running = false;
    await loop;
    cmd.disconnect();
    read.disconnect();
  }
}

const prefix = uniquePrefix('bench-bus');
const cleaner = new Redis(url);
try {
  const only = process.env.BENCH_ONLY;
  const raw = only === 'bus' || only === 'cluster' ? [] : await benchRaw(`${prefix}:raw`);
  const bus = only === 'raw' || only === 'cluster' ? [] : await benchBus(prefix);
  const cluster = only === 'raw' || only === 'bus' ? [] : await benchBusCluster(`${prefix}:cluster`);
  for (const row of bus) {
    const base = raw.find((r) => r.concurrency === row.concurrency);
    if (base) row.vs_baseline_pct = (row.ops_per_s / base.ops_per_s) * 100;
  }
  for (const row of cluster) {
    const single = bus.find((r) => r.concurrency === row.concurrency);
    if (single) row.vs_single_node_pct = (row.ops_per_s / single.ops_per_s) * 100;
  }
  report(
    'bus',
    [...bus, ...cluster, ...raw],
    [
      `${seconds}s per level after a 0.5 s warm-up; worker and caller in separate processes; Redis on loopback; ${(await import('node:os')).cpus().length} cores.`,
      '*_cpu_us: CPU microseconds per call spent by the calling process, the worker process and the Redis server (INFO cpu) during the level.',
      'bus.call.cluster: the same bus.call on a Redis Cluster of 3 masters + 3 replicas (redis-server processes on the same host, no persistence); redis_cpu_us is the sum of all six nodes; vs_single_node_pct compares with bus.call at the same concurrency.',
    ],
  );
  infoClient.disconnect();
} finally {
  await deletePrefix(cleaner, prefix);
  cleaner.disconnect();
}
process.exit(0);
