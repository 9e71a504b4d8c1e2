/**
 * `npm run bench:gateway`: (a) chat turns/s and first-token overhead at 100 concurrent clients, against
 * the real conversation and agent-execution services and the dev model server; (b) idle WebSockets one
 * gateway process holds and its RSS per socket. Writes bench/results/gateway.json and prints a table.
 *
 * Three cases: 100 chatting clients — each sends a message, reads the streamed answer, then pauses
 * (exponential think time, mean BENCH_THINK_MS = 1 s; people read and type) — the row;
 * the same 100 clients with no pause at all (`…_saturated`: the most turns/s the host finishes, where
 * every turn queues behind the others for CPU); and one client alone (the path's own length).
 *
 * first_token_overhead = time to the first agent.token at the client minus the dev model's own
 * time to first token (measured directly on the model server in the same run, same clients, same pauses).
 * `gateway_hop` isolates the gateway: from the event's production in agent-execution (`at`) to
 * its arrival at the client.
 *
 * BENCH_CASES=0,2 runs only those chat cases (by index); BENCH_NODE_ARGS adds node flags to every
 * service process (AGENT_NODE_ARGS to agent-execution alone), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
// Not '@parley/testing' itself: its index imports vitest, which only loads inside a test run.
import { redisUrl, databaseUrl } from '../packages/testing/src/env.js';
import { spawnTs, type TsProcess } from '../packages/testing/src/spawn-ts.js';
import { urlForDatabase, withAdmin } from '../packages/testing/src/pg.js';
import { migrateDatabase } from '../packages/db/src/migrate.js';
import { cpuPerOp, cpuSnapshot } from './lib/cpu-time.js';
import { redisCalls } from './lib/redis-calls.js';
import { ParleyClient } from '../packages/client/src/index.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const TURNS = Number(process.env.BENCH_TURNS ?? 10);
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 1_000);
// One agent-execution process by default: on this two-core host a second replica spread the queue but
// each ran colder and a turn cost more CPU in all (10.9 vs 7.6 ms at one client). BENCH_AGENT_REPLICAS=2 to compare.
const AGENT_REPLICAS = Number(process.env.BENCH_AGENT_REPLICAS ?? 1);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));

interface Row {
  case: string;
  concurrency: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  [k: string]: number | string;
}

function token(sub: string): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub, tenant_id: 'bench', roles: [], iat: now, exp: now + 3600 })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : NaN;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const started = Date.now();
  const prefix = `bench:gw:${randomUUID().slice(0, 8)}`;
  const dbName = `parley_bench_gw_${Date.now()}`;
  await withAdmin((c) => c.query(`create database "${dbName}"`));
  const dbUrl = urlForDatabase(dbName, databaseUrl);
  await migrateDatabase(dbUrl);
  // The model in a process of its own, as a real one is: in the bench's process its replies would wait
  // behind the 100 clients' frames, and that wait would be counted as the platform's overhead.
  const modelProc = spawnTs(`${root}packages/llm/src/dev-server/main.ts`, { DEV_MODEL_PORT: '0', DEV_MODEL_TOKEN_DELAY_MS: '0' });
  await modelProc.waitForOutput('dev model server listening on', 30_000);
  const model = { url: /listening on (\S+)/.exec(modelProc.output())?.[1] as string, pid: modelProc.child.pid };
  const env = { REDIS_URL: redisUrl, DATABASE_URL: dbUrl, BUS_PREFIX: prefix, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', PARLEY_MODE: 'dev' };
  const procs: TsProcess[] = [
    spawnTs(`${root}apps/conversation/src/main.ts`, env, [], process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean)),
    // AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles agent-execution through the turns.
    ...Array.from({ length: AGENT_REPLICAS }, () =>
      spawnTs(`${root}apps/agent-execution/src/main.ts`, { ...env, MODEL_BASE_URL: model.url, MODEL_NAME: 'parley-dev', RUN_CONCURRENCY: String(CONCURRENCY * 2) }, [], [...(process.env.AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])]),
    ),
  ];
  const gw = spawnTs(`${root}apps/gateway/src/main.ts`, {
    ...env,
    AUTH_JWT_SECRET: SECRET,
    WS_MAX_SOCKETS_PER_USER: String(SOCKETS + 10),
    WS_MESSAGES_PER_MINUTE: '1000000',
  }, [], process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean));
  const rows: Row[] = [];
  const infoClient = new Redis(redisUrl);
  try {
    await Promise.all(procs.map((p) => p.waitForOutput('"msg":"ready"', 30_000)));
    await gw.waitForOutput('gateway listening', 30_000);
    const port = /"port":(\d+)/.exec(gw.output())?.[1];
    const url = `ws://127.0.0.1:${port}/ws/chat`;
    const pid = gw.child.pid as number;

    // (a) chat turns: CONCURRENCY chatting clients (the row), the same clients with no pause
    // (saturated), then one client alone — the critical path of a turn with nothing queued ahead of it.
    const cases = [
      { name: 'first_token_overhead', concurrency: CONCURRENCY, turns: TURNS * 2, thinkMs: THINK_MS },
      { name: 'first_token_overhead_saturated', concurrency: CONCURRENCY, turns: TURNS, thinkMs: 0 },
      { name: 'first_token_overhead', concurrency: 1, turns: 100, thinkMs: 0 },
    ];
    for (const [i, { name, concurrency, turns, thinkMs }] of cases.entries()) {
      if (process.env.BENCH_CASES && !process.env.BENCH_CASES.split(',').includes(String(i))) continue;
      // Exponential pauses: clients drift apart instead of marching in step.
      const think = () => (thinkMs > 0 ? sleep(-Math.log(1 - Math.random()) * thinkMs) : Promise.resolve());
      // Model baseline: the dev model's own time to first token with the same clients and pauses.
      const modelTtft: number[] = [];
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (let t = 0; t < turns; t++) {
            await think();
            const s = performance.now();
            const res = await fetch(`${model.url}/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'parley-dev', stream: true, messages: [{ role: 'user', content: `hello number ${t} [[tokens:20]]` }] }),
            });
            const reader = res.body!.getReader();
            let first = true;
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              if (first && new TextDecoder().decode(value).includes('"content"')) {
                modelTtft.push(performance.now() - s);
                first = false;
              }
            }
          }
        }),
      );
      const modelP50 = pct(modelTtft, 50);

          const ttft: number[] = [];
      const chatters = await Promise.all(
        Array.from({ length: concurrency }, async (_, i) => {
          const c = new ParleyClient({ url, token: token(`chatter-${i}`), reconnect: false });
          await c.connect();
          return c;
        }),
      );
      // One unmeasured turn each first: conversations created, JIT warm, pools filled.
      await Promise.all(chatters.map(async (c) => { for await (const _f of await c.chat('warm-up [[tokens:5]]')); }));
      const b0 = performance.now();
      const pids = { gateway: gw.child.pid, conversation: procs[0]?.child.pid, ...Object.fromEntries(procs.slice(1).map((p, n) => [n === 0 ? 'agent' : `agent${n + 1}`, p.child.pid])), bench: process.pid, model: model.pid };
      const cpuBefore = await cpuSnapshot(pids, { redis: infoClient, postgres: true });
      const callsBefore = await redisCalls(infoClient);
      await Promise.all(
        chatters.map(async (c) => {
          for (let t = 0; t < turns; t++) {
            await think();
            const s = performance.now();
            const run = await c.chat(`hello number ${t} [[tokens:20]]`);
            let first = true;
            for await (const f of run) {
              if (first && f.type === 'agent.token') {
                ttft.push(performance.now() - s);
                first = false;
              }
            }
          }
        }),
      );
      const turnsPerS = (concurrency * turns) / ((performance.now() - b0) / 1000);
      const cpu = cpuPerOp(cpuBefore, await cpuSnapshot(pids, { redis: infoClient, postgres: true }), concurrency * turns);
      const redisCmdsPerTurn = ((await redisCalls(infoClient)) - callsBefore) / (concurrency * turns);
      const cpuPerTurn = Object.fromEntries(Object.entries(cpu).map(([k, ms]) => [`${k}_cpu_ms_per_turn`, r3(ms)]));
      const hostMs = Object.values(cpuPerTurn).reduce((a, b) => a + b, 0);
      // The gateway's histogram is cumulative, so only the first level's reading is its own.
      const hop = i === 0 ? await gatewayHop(`http://127.0.0.1:${port}/metrics`) : null;
      const overhead = ttft.map((x) => x - modelP50);
      rows.push({
        case: name,
        concurrency: concurrency,
        think_ms_mean: thinkMs,
        ops_per_s: r3(turnsPerS),
        p50_ms: r3(pct(overhead, 50)),
        p99_ms: r3(pct(overhead, 99)),
        ttft_p50_ms: r3(pct(ttft, 50)),
        ttft_p99_ms: r3(pct(ttft, 99)),
        model_ttft_p50_ms: r3(modelP50),
        model_ttft_p99_ms: r3(pct(modelTtft, 99)),
        ...(hop ? { gateway_hop_p50_ms_le: hop.p50, gateway_hop_p99_ms_le: hop.p99 } : {}),
        turns: ttft.length,
        agent_replicas: AGENT_REPLICAS,
        ...cpuPerTurn,
        host_cpu_ms_per_turn: r3(hostMs),
        host_bound_turns_per_s: r3((availableParallelism() * 1000) / hostMs),
        redis_cmds_per_turn: r3(redisCmdsPerTurn),
      });
      for (const c of chatters) c.close();
    }
    // (b) idle sockets, after the chat rows: 10,000 sockets dropped at once leave the gateway a heap to
    // collect, and a chat row measured behind those collections would count them as first-token overhead.
    const warm = new ParleyClient({ url, token: token('idle'), reconnect: false });
    await warm.connect();
    await sleep(1_000);
    const before = rssKiB(pid);
    const idle: ParleyClient[] = [];
    const t0 = performance.now();
    const connectMs: number[] = [];
    for (let i = 0; i < SOCKETS; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, SOCKETS - i) }, async () => {
          const c = new ParleyClient({ url, token: token('idle'), reconnect: false });
          const s = performance.now();
          await c.connect();
          connectMs.push(performance.now() - s);
          idle.push(c);
        }),
      );
    }
    const elapsed = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const after = rssKiB(pid);
    rows.push({
      case: 'idle_sockets',
      concurrency: 500,
      ops_per_s: r3(idle.length / elapsed),
      p50_ms: r3(pct(connectMs, 50)),
      p99_ms: r3(pct(connectMs, 99)),
      sockets: idle.length,
      rss_kib_per_socket: r3((after - before) / idle.length),
      rss_before_kib: before,
      rss_after_kib: after,
    });
    for (const c of idle) c.close();
    warm.close();
    await sleep(1_000);

  } finally {
    infoClient.disconnect();
    await gw.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
    await modelProc.kill('SIGTERM');
    const r = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
    r.disconnect();
    await withAdmin((c) => c.query(`drop database if exists "${dbName}" with (force)`)).catch(() => {});
  }
  mkdirSync(`${root}bench/results`, { recursive: true });
  const out = {
    suite: 'gateway',
    at: new Date().toISOString(),
    rows,
    notes: [
      'idle_sockets: sockets held by one gateway process after welcome + history; rss_kib_per_socket = (RSS after - RSS before) / sockets, read from /proc',
      'gateway_hop_*_ms_le: upper bound of the gateway histogram bucket holding that quantile (event produced in agent-execution → frame written to the socket)',
      'first_token_overhead: client time to first agent.token minus the dev model p50 time to first token with the same clients and pauses; includes agent-execution (context load, user message save) and the bus. At concurrency 100 the clients chat: after each answer they pause (exponential, mean think_ms_mean). first_token_overhead_saturated: the same clients with no pause, a closed loop that keeps the host busy (ops_per_s is then the most turns/s it finishes, and each turn waits behind the others). The concurrency-1 row is one client alone: the length of the path itself, with no queue.',
      'redis_cmds_per_turn: commands the Redis server ran per chat turn (INFO commandstats, those of Lua scripts included), a count machine noise cannot move',
      '*_cpu_ms_per_turn: CPU per chat turn of each process (from /proc; Redis from INFO cpu; postgres summed over its backends; bench = the 100 clients; model = the dev model server, in its own process). host_bound_turns_per_s = cores × 1000 / their sum: the most turns/s this machine can finish, so 100 clients in a closed loop wait at least 100 / that rate per turn (Little\'s law).',
      `duration_s: ${Math.round((Date.now() - started) / 1000)}`,
    ],
  };
  writeFileSync(`${root}bench/results/gateway.json`, `${JSON.stringify(out, null, 2)}\n`);
  console.table(rows);
}

/**
 * The gateway's live-path share, from its own histogram (event produced → frame written): bucket
 * upper bounds, so "p50 ≤ x ms".
 */
async function gatewayHop(metricsUrl: string): Promise<{ p50: number; p99: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const buckets: Array<[number, number]> = [];
  for (const m of text.matchAll(/parley_gateway_event_delivery_lag_seconds_bucket\{([^}]*)\} (\d+)/g)) {
    if (!m[1]?.includes('path="live"')) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (le) buckets.push([le === '+Inf' ? Infinity : Number(le) * 1000, Number(m[2])]);
  }
  const total = buckets.at(-1)?.[1] ?? 0;
  const at = (p: number) => buckets.find(([, n]) => n >= total * p)?.[0] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

await main();
process.exit(0);
