/**
 * `npm run bench:gateway`: (a) chat turns/s and first-token overhead at 100 concurrent clients, against
 * the real conversation and agent-execution services and the dev model server; (b) the same turns on the
 * raw path (raw-path-worker.ts: the same processes and hops with nothing of the platform on them), the
 * floor this host puts under any implementation of the path; (c) idle WebSockets one gateway process
 * holds and its RSS per socket. Writes bench/results/gateway.json and prints a table.
 *
 * Chat cases: 100 chatting clients — each sends a message, reads the streamed answer, then pauses
 * (exponential think time, mean BENCH_THINK_MS = 1 s; people read and type) — the row;
 * the same 100 clients with no pause at all (`…_saturated`: the most turns/s the host finishes, where
 * every turn queues behind the others for CPU); and one client alone (the path's own length). The raw
 * path runs the first and the last (`first_token_floor`).
 *
 * first_token_overhead = per turn, the time to the first agent.token at the client minus the dev
 * model's own time to that request's first token (measured by the model server, paired by the turn's text).
 * `gateway_hop` isolates the gateway: from the event's production in agent-execution (`at`) to
 * its arrival at the client.
 *
 * Streaming cases: the same 100 chatting clients with answers of STREAM_TOKENS tokens (100) that the dev
 * model writes at 20 ms per token (its per-request `[[slow:20]]`, a real model's pace; the other rows' model
 * answers 20 tokens at once): `stream_turn` on the platform, `stream_turn_floor` on the raw path, whose
 * agent batches tokens as the platform's 25 ms token window does. Per-token work dominates a real stream,
 * so these rows' CPU per turn is the figure to compare.
 *
 * Platform rows also carry the gateway's and agent-execution's event-loop delay and GC pauses over the
 * phase (gateway_eld_*, gateway_gc_*, agent_eld_*, agent_gc_*; bench/lib/loop-stalls.ts), sampled at 1 ms.
 *
 * BENCH_CASES=0,2 runs only those chat cases, by index: 0 first_token_overhead (c=100 chatting),
 * 1 …_saturated, 2 first_token_overhead (c=1), 3 first_token_floor (c=100 chatting), 4 first_token_floor
 * (c=1), 5 stream_turn, 6 stream_turn_floor. BENCH_NODE_ARGS adds
 * node flags to every service process (AGENT_NODE_ARGS to agent-execution alone), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
// Not '@parley/testing' itself: its index imports vitest, which only loads inside a test run.
import { redisUrl, databaseUrl } from '../packages/testing/src/env.js';
import { spawnTs, type TsProcess } from '../packages/testing/src/spawn-ts.js';
import { urlForDatabase, withAdmin } from '../packages/testing/src/pg.js';
import { migrateDatabase } from '../packages/db/src/migrate.js';
import { ParleyClient } from '../packages/client/src/index.js';
import { measureChatTurns } from './lib/chat-turns.js';
import { loopStalls } from './lib/loop-stalls.js';
import { percentiles, report, type BenchRow } from './lib/results.js';
import { serviceEnv } from './lib/service-env.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const TURNS = Number(process.env.BENCH_TURNS ?? 10);
const THINK_MS = Number(process.env.BENCH_THINK_MS ?? 1_000);
// One agent-execution process by default: on this two-core host a second replica spread the queue but
// each ran colder and a turn cost more CPU in all (10.9 vs 7.6 ms at one client). BENCH_AGENT_REPLICAS=2 to compare.
const AGENT_REPLICAS = Number(process.env.BENCH_AGENT_REPLICAS ?? 1);
const STREAM_TOKENS = Number(process.env.BENCH_STREAM_TOKENS ?? 100);
const STREAM_TURNS = Number(process.env.BENCH_STREAM_TURNS ?? 5);
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));
const nodeArgs = (v: string | undefined) => v?.split(' ').filter(Boolean) ?? [];
const serviceArgs = nodeArgs(process.env.BENCH_NODE_ARGS);

function token(sub: string): string {
  const b = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b({ alg: 'HS256', typ: 'JWT' })}.${b({ sub, tenant_id: 'bench', roles: [], iat: now, exp: now + 3600 })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wanted = (i: number) => !process.env.BENCH_CASES || process.env.BENCH_CASES.split(',').includes(String(i));

async function main(): Promise<void> {
  const started = Date.now();
  const prefix = `bench:gw:${randomUUID().slice(0, 8)}`;
  const dbName = `parley_bench_gw_${Date.now()}`;
  await withAdmin((c) => c.query(`create database "${dbName}"`));
  const dbUrl = urlForDatabase(dbName, databaseUrl);
  await migrateDatabase(dbUrl);
  // The model in a process of its own, as a real one is: in the bench's process its replies would wait
  // behind the 100 clients' frames, and that wait would be counted as the platform's overhead.
  const modelProc = spawnTs(`${root}packages/llm/src/dev-server/main.ts`, { DEV_MODEL_PORT: '0', DEV_MODEL_TOKEN_DELAY_MS: '0' }, [], serviceArgs);
  await modelProc.waitForOutput('dev model server listening on', 30_000);
  const modelUrl = /listening on (\S+)/.exec(modelProc.output())?.[1] as string;
  // Its control routes (/_control, /_requests) sit beside /v1, not under it.
  const model = { url: modelUrl, root: modelUrl.replace(/\/v1\/?$/, ''), pid: modelProc.child.pid };
  const env = serviceEnv(redisUrl, dbUrl, prefix);
  const procs: TsProcess[] = [
    spawnTs(`${root}apps/conversation/src/main.ts`, env, [], serviceArgs),
    // AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles agent-execution through the turns.
    ...Array.from({ length: AGENT_REPLICAS }, () =>
      spawnTs(
        `${root}apps/agent-execution/src/main.ts`,
        { ...env, MODEL_BASE_URL: model.url, MODEL_NAME: 'parley-dev', RUN_CONCURRENCY: String(CONCURRENCY * 2) },
        [],
        [...nodeArgs(process.env.AGENT_NODE_ARGS), ...serviceArgs],
      ),
    ),
  ];
  const gw = spawnTs(
    `${root}apps/gateway/src/main.ts`,
    { ...env, AUTH_JWT_SECRET: SECRET, WS_MAX_SOCKETS_PER_USER: String(SOCKETS + 10), RUNS_PER_MINUTE: '1000000', WS_FRAMES_PER_MINUTE: '1000000' },
    [],
    serviceArgs,
  );
  let raw: TsProcess[] = [];
  const rows: BenchRow[] = [];
  const redis = new Redis(redisUrl);
  try {
    await Promise.all(procs.map((p) => p.waitForOutput('"msg":"ready"', 30_000)));
    await gw.waitForOutput('gateway listening', 30_000);
    const port = /"port":(\d+)/.exec(gw.output())?.[1];
    const metricsPort = /"metricsPort":(\d+)/.exec(gw.output())?.[1];
    const url = `ws://127.0.0.1:${port}/ws/chat`;
    const pid = gw.child.pid as number;
    const pids = {
      gateway: pid,
      conversation: procs[0]?.child.pid,
      ...Object.fromEntries(procs.slice(1).map((p, n) => [n === 0 ? 'agent' : `agent${n + 1}`, p.child.pid])),
      bench: process.pid,
      model: model.pid,
    };
    const common = { token, modelRoot: model.root, redis, pids };
    // The platform's event-loop and GC columns: the gateway's metrics port, and agent-execution's health server.
    const agentMetrics = `http://127.0.0.1:${/"httpPort":(\d+)/.exec(procs[1]?.output() ?? '')?.[1]}/metrics`;
    const gwMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    const withStalls = async (measure: () => Promise<BenchRow>): Promise<BenchRow> => {
      const [gwPhase, agentPhase] = await Promise.all([loopStalls('gateway', gwMetrics), loopStalls('agent', agentMetrics)]);
      const row = await measure();
      return { ...row, ...(await gwPhase.end()), ...(await agentPhase.end()) };
    };
    const streaming = { concurrency: CONCURRENCY, turns: STREAM_TURNS, thinkMs: THINK_MS, answer: { tokens: STREAM_TOKENS, tokenDelayMs: 20 } };

    // (a) the platform: CONCURRENCY chatting clients (the row), the same clients with no pause
    // (saturated), then one client alone — the critical path of a turn with nothing queued ahead of it.
    const chatting = { concurrency: CONCURRENCY, turns: TURNS * 2, thinkMs: THINK_MS };
    const alone = { concurrency: 1, turns: 100, thinkMs: 0 };
    if (wanted(0)) {
      rows.push({
        ...(await withStalls(() => measureChatTurns({ ...common, url, name: 'first_token_overhead', ...chatting }))),
        ...(await gatewayHop(gwMetrics)),
        agent_replicas: AGENT_REPLICAS,
      });
    }
    if (wanted(1))
      rows.push({
        ...(await withStalls(() =>
          measureChatTurns({ ...common, url, name: 'first_token_overhead_saturated', concurrency: CONCURRENCY, turns: TURNS, thinkMs: 0 }),
        )),
        agent_replicas: AGENT_REPLICAS,
      });
    if (wanted(2))
      rows.push({ ...(await withStalls(() => measureChatTurns({ ...common, url, name: 'first_token_overhead', ...alone }))), agent_replicas: AGENT_REPLICAS });
    if (wanted(5))
      rows.push({ ...(await withStalls(() => measureChatTurns({ ...common, url, name: 'stream_turn', ...streaming }))), agent_replicas: AGENT_REPLICAS });

    // (b) the floor: the same clients, model and hops through Redis, with the raw path's processes
    // standing in for the services (which stay up, idle).
    if (wanted(3) || wanted(4) || wanted(6)) {
      const rawPrefix = `${prefix}:raw`;
      raw = ['gateway', 'agent', 'conversation'].map((role) =>
        spawnTs(`${root}bench/raw-path-worker.ts`, { ...env, MODEL_BASE_URL: model.url }, [role, rawPrefix], serviceArgs),
      );
      await Promise.all(raw.map((p) => p.waitForOutput('raw ', 30_000)));
      const rawUrl = `ws://127.0.0.1:${/raw gateway listening on (\d+)/.exec(raw[0]?.output() ?? '')?.[1]}/`;
      const rawPids = { gateway: raw[0]?.child.pid, conversation: raw[2]?.child.pid, agent: raw[1]?.child.pid, bench: process.pid, model: model.pid };
      if (wanted(3)) rows.push(await measureChatTurns({ ...common, pids: rawPids, url: rawUrl, name: 'first_token_floor', ...chatting }));
      if (wanted(4)) rows.push(await measureChatTurns({ ...common, pids: rawPids, url: rawUrl, name: 'first_token_floor', ...alone }));
      if (wanted(6)) rows.push(await measureChatTurns({ ...common, pids: rawPids, url: rawUrl, name: 'stream_turn_floor', ...streaming }));
      await Promise.all(raw.map((p) => p.kill('SIGTERM')));
      raw = [];
    }

    // (c) idle sockets, after the chat rows: 10,000 sockets dropped at once leave the gateway a heap to
    // collect, and a chat row measured behind those collections would count them as first-token overhead.
    if (SOCKETS > 0) rows.push(await idleSockets(url, pid));
  } catch (err) {
    // A failed case says why in the services' own words: their whole output, one file each.
    for (const [i, p] of [gw, ...procs, ...raw, modelProc].entries()) {
      const file = join(tmpdir(), `bench-gateway-${i}-${p.child.pid}.log`);
      writeFileSync(file, p.output());
      console.error(`${p.child.spawnargs.slice(-3).join(' ')}: output in ${file}`);
    }
    throw err;
  } finally {
    redis.disconnect();
    await Promise.all([gw, ...procs, ...raw, modelProc].map((p) => p.kill('SIGTERM')));
    const r = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
    r.disconnect();
    await withAdmin((c) => c.query(`drop database if exists "${dbName}" with (force)`)).catch(() => {
      /* the global sweep drops leftover bench databases */
    });
  }
  report('gateway', rows, [
    'idle_sockets: sockets held by one gateway process after welcome + history; rss_kib_per_socket = (RSS after - RSS before) / sockets, read from /proc',
    'gateway_hop_*_ms_le: upper bound of the gateway histogram bucket holding that quantile (event produced in agent-execution → frame written to the socket)',
    "first_token_overhead: per turn, the client's time to its first agent.token minus the dev model's own time to that request's first token (from the request's arrival to the token on the wire, GET /_requests, paired by the turn's unique text); includes the HTTP hop to the model, agent-execution (context load, user message save) and the bus. At concurrency 100 the clients chat: after each answer they pause (exponential, mean think_ms_mean). first_token_overhead_saturated: the same clients with no pause, a closed loop that keeps the host busy (ops_per_s is then the most turns/s it finishes, and each turn waits behind the others). The concurrency-1 row is one client alone: the length of the path itself, with no queue.",
    'first_token_floor: the same measurement on bench/raw-path-worker.ts, the same processes and hops (message claim, XADD to the agent, conversation round trip, PostgreSQL insert, streamed HTTP completion, tokens pushed to the gateway) written with raw ioredis, pg, ws and node:http and nothing else: what this host alone costs the path',
    'redis_cmds_per_turn: commands the Redis server ran per chat turn (INFO commandstats, those of Lua scripts included), a count machine noise cannot move; *_syscalls_per_turn: read and write system calls of each process per turn (/proc/<pid>/io), another such count',
    "*_cpu_ms_per_turn: CPU per chat turn of each process (from /proc; Redis from INFO cpu; postgres summed over its backends; bench = the clients; model = the dev model server, in its own process). host_bound_turns_per_s = cores × 1000 / their sum: the most turns/s this machine can finish, so 100 clients in a closed loop wait at least 100 / that rate per turn (Little's law).",
    `stream_turn / stream_turn_floor: ${CONCURRENCY} chatting clients, ${STREAM_TURNS} turns each, answers of answer_tokens tokens written by the dev model at 20 ms per token ([[slow:20]]); turn_*_ms = first frame to agent.message at the client; compare host_cpu_ms_per_turn (target ≤ 1.5× the floor's)`,
    'gateway_eld_*_ms / agent_eld_*_ms: event-loop delay of that process over the row (monitorEventLoopDelay at 1 ms: an idle loop reads ~1 ms, a stall of s ms ~s + 1); *_gc_pause_ms / *_gc_count: its GC pauses in the row, every one',
    `node ${process.version}; duration_s: ${Math.round((Date.now() - started) / 1000)}`,
  ]);
}

/** Opens SOCKETS idle sockets on the gateway, 500 at a time, and reads its RSS before and after. */
async function idleSockets(url: string, pid: number): Promise<BenchRow> {
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
  for (const c of idle) c.close();
  warm.close();
  await sleep(1_000);
  const { p50, p99 } = percentiles(connectMs);
  return {
    case: 'idle_sockets',
    concurrency: 500,
    ops_per_s: idle.length / elapsed,
    p50_ms: p50,
    p99_ms: p99,
    sockets: idle.length,
    rss_kib_per_socket: (after - before) / idle.length,
    rss_before_kib: before,
    rss_after_kib: after,
  };
}

/**
 * The gateway's live-path share, from its own histogram (event produced → frame written): bucket
 * upper bounds, so "p50 ≤ x ms". The histogram is cumulative, so only the first case reads its own.
 */
async function gatewayHop(metricsUrl: string): Promise<{ gateway_hop_p50_ms_le: number; gateway_hop_p99_ms_le: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const buckets: Array<[number, number]> = [];
  for (const m of text.matchAll(/parley_gateway_event_delivery_lag_seconds_bucket\{([^}]*)\} (\d+)/g)) {
    if (!m[1]?.includes('path="live"')) continue;
    const le = /le="([^"]+)"/.exec(m[1])?.[1];
    if (le) buckets.push([le === '+Inf' ? Infinity : Number(le) * 1000, Number(m[2])]);
  }
  const total = buckets.at(-1)?.[1] ?? 0;
  const at = (p: number) => buckets.find(([, n]) => n >= total * p)?.[0] ?? NaN;
  return { gateway_hop_p50_ms_le: at(0.5), gateway_hop_p99_ms_le: at(0.99) };
}

await main();
process.exit(0);
