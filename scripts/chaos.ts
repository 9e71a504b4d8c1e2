// npm run chaos — the platform under load while replicas are killed (-9) and restarted, Redis is
// restarted once (AOF) and PostgreSQL cut once; then: nothing lost, nothing doubled, nothing stuck.
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { report } from './cli/errors.js';
import { startProgress, writeLine, type Progress } from './cli/progress.js';
import { CHAOS_USAGE, parseChaosArgs, type ChaosArgs } from './chaos/args.js';
import type { Replica } from './chaos/services.js';
import type { Accepted } from './load/user.js';

const started = performance.now();
let args: ChaosArgs;
try {
  args = parseChaosArgs(process.argv.slice(2));
} catch (err) {
  process.exit(report('chaos', err));
}
if (args.help) {
  console.log(CHAOS_USAGE);
  process.exit(0);
}
// With --json stdout carries only the verdict; what a person watches goes to stderr.
// The rest loads only now: --help and a usage error answer at once.
const [
  { default: pg },
  { createBus, openRedis, replayDeadLetters },
  { busKeys, catalog },
  { startDevModelServer },
  { ensureDatabase, migrateDatabase },
  { printTable, probePostgres },
  { failoverWebSocket, livePicker },
  { startPgProxy },
  { startChaosCluster, startChaosRedis },
  { runChaos },
  { replica },
  { deadLetters, summarizeLetters, verify },
  { LoadStats },
  { runUser },
] = await Promise.all([
  import('pg'),
  import('@parley/bus'),
  import('@parley/contracts'),
  import('../packages/llm/src/dev-server/index.js'),
  import('../packages/db/src/migrate.js'),
  import('./cli/index.js'),
  import('./chaos/failover.js'),
  import('./chaos/pg-proxy.js'),
  import('./chaos/redis.js'),
  import('./chaos/schedule.js'),
  import('./chaos/services.js'),
  import('./chaos/verify.js'),
  import('./load/stats.js'),
  import('./load/user.js'),
]);
const human = args.json ? process.stderr : process.stdout;
const say = (m: string) => writeLine(human, `chaos ${m}`);
const print = (m = '') => writeLine(human, m);
const since = (t: number) => `${((performance.now() - t) / 1000).toFixed(0)} s`;
let phase = 'checking PostgreSQL';
let progress: Progress | undefined = startProgress(() => `chaos ${phase} … ${since(started)}`, { stream: human });

const tag = `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
const logFile = join(tmpdir(), `parley-chaos-${tag}.log`);
const log = createWriteStream(logFile);
const adminUrl = new URL(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(adminUrl.hostname)) {
  progress.stop();
  console.error(`chaos: DATABASE_URL host ${adminUrl.hostname} is not loopback; the chaos suite only targets this machine`);
  process.exit(2);
}
const dbName = `parley_chaos_${tag}`;
const dbUrl = (host: string, port: number) => Object.assign(new URL(adminUrl), { hostname: host, port: String(port), pathname: `/${dbName}` }).toString();
const cleanups: Array<() => Promise<unknown>> = [];
const replicas: Replica[] = [];

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    progress?.stop();
    await Promise.all(
      replicas.map((r) =>
        r.stop().catch(() => {
          /* cleanup: a replica that will not stop is killed with the process group */
        }),
      ),
    );
    for (const fn of cleanups.reverse()) await fn().catch((e: Error) => say(`cleanup: ${e.message}`));
    log.end();
  })();
  return cleaning;
}
// The whole run stays bounded even if something hangs: past 175 s it stops and fails.
const watchdog = setTimeout(() => {
  say('over the time bound (175 s): stopping and failing');
  void cleanup().then(() => process.exit(1));
}, 175_000);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

try {
  // Before anything is started: a PostgreSQL that is down is one line, not a stack from the migrator.
  await probePostgres(adminUrl.toString());
  phase = 'starting Redis, the database and the dev model';
  const redis = args.redisCluster ? await startChaosCluster(busKeys.stream('parley', 'agent')) : await startChaosRedis(args.redisSignal);
  cleanups.push(() => redis.stop());
  const direct = dbUrl(adminUrl.hostname, Number(adminUrl.port || 5432));
  await ensureDatabase(direct);
  cleanups.push(async () => {
    const admin = new pg.Client({ connectionString: Object.assign(new URL(adminUrl), { pathname: '/postgres' }).toString() });
    await admin.connect();
    await admin.query(`drop database if exists "${dbName}" with (force)`).finally(() => admin.end());
  });
  await migrateDatabase(direct);
  const proxy = await startPgProxy({ host: adminUrl.hostname, port: Number(adminUrl.port || 5432) });
  cleanups.push(() => proxy.close());
  const model = await startDevModelServer({ tokenDelayMs: 10 });
  cleanups.push(() => model.close());
  say(`${redis.describe}, database ${dbName} behind a TCP proxy on port ${proxy.port}, dev model ${model.url}; service logs in ${logFile}`);

  const env: NodeJS.ProcessEnv = {
    ...redis.env,
    DATABASE_URL: dbUrl('127.0.0.1', proxy.port),
    MODEL_BASE_URL: model.url,
    MODEL_NAME: 'parley-dev',
    PARLEY_MODE: 'dev',
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '2000',
    AUTH_JWT_SECRET: randomBytes(24).toString('hex'),
    AUTH_DEV_TOKENS: 'true',
    RUNS_PER_MINUTE: '600',
    // Short idle times so conversations migrate to PostgreSQL while the chaos is on.
    CONVERSATION_IDLE_MS: '4000',
    MIGRATION_IDLE_MS: '4000',
  };
  const plan: Array<[string, string]> = [
    ['conversation', 'conversation-1'],
    ['agent-execution', 'agent-execution-1'],
    ['migration', 'migration-1'],
    ['query', 'query-1'],
    ['gateway', 'gateway-1'],
    ['gateway', 'gateway-2'],
  ];
  phase = 'starting the services';
  for (const [app, label] of plan) replicas.push(await replica(app, label, env, log));
  await Promise.all(replicas.map((r) => r.start()));
  say(`started ${replicas.map((r) => `${r.label}:${r.port}`).join(' ')} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

  const gateways = replicas.filter((r) => r.app === 'gateway');
  const pick = livePicker(gateways);
  const WebSocket = failoverWebSocket(pick);
  const accepted: Accepted[] = [];
  const t0 = performance.now();
  const deadline = t0 + args.durationS * 1000;
  const stats = new LoadStats(deadline);
  const loadStart = loadavg()[0]!;
  say(`${args.users} users for ${args.durationS} s, a kill every ${args.everyS} s (load average ${loadStart.toFixed(2)} on ${cpus().length} cores)`);
  progress.stop();
  progress = startProgress(
    () =>
      `chaos t=${since(t0)}/${args.durationS} s: ${stats.completed} turns answered, ${stats.started - stats.completed - stats.failed()} in flight, ${replicas.reduce((n, r) => n + r.kills, 0)} kills, errors ${stats.errorsLine()}`,
    { stream: human },
  );
  const users = Promise.all(
    Array.from({ length: args.users }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (i / args.users) * 2000));
      await runUser({
        http: () => `http://127.0.0.1:${pick().port}`,
        ws: `ws://127.0.0.1:${gateways[0]!.port}/ws/chat`,
        userId: `chaos-${i}`,
        tenantId: 'chaos',
        deadline,
        hardDeadline: deadline + 20_000,
        thinkMs: [300, 1500],
        stats,
        WebSocket,
        onAccepted: (a) => accepted.push(a),
      });
    }),
  );
  const events = await runChaos({
    targets: replicas.filter((r) => r.app !== 'query'),
    redis,
    pg: proxy,
    t0,
    endAt: deadline,
    everyMs: args.everyS * 1000,
    say,
  });
  await users;
  progress.stop();
  say(`load done: ${stats.completed} turns answered, ${stats.failed()} failed (${stats.errorsLine()}), ${accepted.length} accepted`);

  // Runs that were in flight at the end finish (or are failed by a recovering worker) before counting.
  const db = new pg.Client({ connectionString: direct });
  await db.connect();
  cleanups.push(() => db.end());
  const settle = async (what: string) => {
    for (let i = 0; i < 20; i++) {
      const { rows } = await db.query<{ n: string }>(`select count(*)::text as n from agent_runs where status in ('RUNNING', 'PENDING')`);
      if (rows[0]?.n === '0') return;
      if (i % 5 === 0) say(`${what}: waiting for ${rows[0]?.n} unfinished run(s) …`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  await settle('after the load');
  const vredis = openRedis(redis.target, { maxRetriesPerRequest: null });
  cleanups.push(async () => vredis.disconnect());
  const services = [...new Set(Object.values(catalog).map((d) => d.service))].sort();
  // Dead letters are the operator's to replay (npm run ops -- dlq replay); the suite does what the
  // operator would, after saying what it found, then checks that the replay settled everything.
  const letters = await deadLetters(vredis, 'parley', services);
  const letterRuns = new Set(letters.flatMap((l) => (l.runId ? [l.runId] : [])));
  const acceptedInDlq = new Set(accepted.filter((a) => letterRuns.has(a.runId)).map((a) => a.runId)).size;
  if (letters.length) {
    print(`\ndead letters after the load (${letters.length}; ${acceptedInDlq} of them hold accepted chat messages)${args.replay ? '; replaying them' : ''}:`);
    for (const line of summarizeLetters(letters)) print(`  ${line}`);
  }
  if (letters.length && args.replay) {
    for (const s of new Set(letters.map((l) => l.service))) await replayDeadLetters(vredis, 'parley', s, 'all');
    await new Promise((r) => setTimeout(r, 1000));
    await settle('after the replay');
  }
  const bus = createBus({ catalog, redis: redis.target, service: 'chaos' });
  cleanups.push(() => bus.close(0));
  const verdict = await verify({ bus, db, redis: vredis, prefix: 'parley', services, accepted });
  verdict.counts = { ...verdict.counts, dead_letters_replayed: args.replay ? letters.length : 0, accepted_runs_dead_lettered: acceptedInDlq };

  const violations = [...verdict.violations];
  if (accepted.length === 0) violations.push('no chat message was accepted: the load never got going');
  if (args.redisCluster) {
    // Code that works on one node can fail on a cluster only in a log line; any such line fails the run.
    const routing = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => /CROSSSLOT|\bMOVED\b|same slots allocation group/.test(l));
    if (routing.length) violations.push(`${routing.length} Redis Cluster routing error(s) in the service logs, first: ${routing[0]!.slice(0, 300)}`);
  }
  const kills = Object.fromEntries(replicas.map((r) => [r.label, r.kills]));
  if (args.json) {
    printTable([], {
      json: true,
      machine: { ok: violations.length === 0, counts: verdict.counts, events, kills, violations, seconds: Math.round((performance.now() - started) / 1000) },
    });
  } else {
    console.log(`\nchaos events (${events.length}):`);
    printTable(
      events.map((e) => ({ t_s: e.atS, event: e.what })),
      { full: args.full, maxCell: 100 },
    );
    console.log('\ncounts:');
    printTable(Object.entries(verdict.counts).map(([count, value]) => ({ count, value })));
    console.log(`kills: ${replicas.map((r) => `${r.label} ×${r.kills}`).join(', ')}`);
  }
  print(`load average ${loadStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end; ${cpus().length} cores; ${since(started)} in all`);
  if (violations.length) {
    print(`\nVIOLATIONS (${violations.length}):`);
    for (const v of violations.slice(0, 50)) print(`  ${v}`);
  } else print('\nOK: every accepted message has one user row and one answer or a failed run; no run left RUNNING/PENDING');
  clearTimeout(watchdog);
  await cleanup();
  process.exit(violations.length ? 1 : 0);
} catch (err) {
  progress?.stop();
  const code = report('chaos', err);
  clearTimeout(watchdog);
  await cleanup();
  process.exit(code);
}
