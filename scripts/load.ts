// npm run load — N simulated users chatting over WebSocket (through @parley/client) with a running
// Parley, or one it starts itself (--start); prints turns/s, first-token and full-turn latency, errors.
import { cpus, loadavg } from 'node:os';
import type { BenchRow } from '../bench/lib/results.js';
import { report } from './cli/errors.js';
import { startProgress, writeLine, type Progress } from './cli/progress.js';
import { LOAD_USAGE, parseLoadArgs, type LoadArgs } from './load/args.js';
import type { Platform } from './load/platform.js';

const GRACE_MS = 20_000;

let args: LoadArgs;
try {
  args = parseLoadArgs(process.argv.slice(2), process.env);
} catch (err) {
  process.exit(report('load', err));
}
if (args.help) {
  console.log(LOAD_USAGE);
  process.exit(0);
}
// The rest loads only now: --help and a usage error answer at once.
const [{ Redis }, { deletePrefix }, { roundRows, writeResults }, { dependencyDown, printTable }, { startPlatform }, { LoadStats }, { runUser }] =
  await Promise.all([
    import('ioredis'),
    import('@parley/testing/tools'),
    import('../bench/lib/results.js'),
    import('./cli/index.js'),
    import('./load/platform.js'),
    import('./load/stats.js'),
    import('./load/user.js'),
  ]);
// With --json stdout carries only the summary; what a person watches goes to stderr.
const human = args.json ? process.stderr : process.stdout;
const say = (m: string) => writeLine(human, `load ${m}`);
const elapsed = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;

let platform: Platform | undefined;
let progress: Progress | undefined;
let stopping = false;
async function cleanup(): Promise<void> {
  progress?.stop();
  if (stopping) return;
  stopping = true;
  if (!platform) return;
  say('stopping the platform …');
  await platform.stop();
  const redis = new Redis(platform.redisUrl, { maxRetriesPerRequest: 1 });
  await deletePrefix(redis, platform.busPrefix).catch(() => {
    /* a fresh prefix has nothing to delete */
  });
  redis.disconnect();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));

try {
  if (args.start) {
    const t = performance.now();
    progress = startProgress(() => `load starting the platform … ${elapsed(t)}`, { stream: human });
    platform = await startPlatform(args.scale, say);
    progress.stop();
    say(`platform ready in ${elapsed(t)}`);
    args.url = platform.gatewayUrl;
  }
  const health = await fetch(`${args.url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch((e: Error) => e);
  if (health instanceof Error)
    throw dependencyDown('the gateway', args.url, health.cause ?? health, 'run `npm start`, pass --start, or point --url at a gateway');
  if (!health.ok) throw new Error(`the gateway at ${args.url} answers /healthz with ${health.status}; is it healthy?`);
  const ws = `${args.url.replace(/^http/, 'ws')}/ws/chat`;
  const loadStart = loadavg()[0]!;
  const t0 = performance.now();
  const deadline = t0 + args.durationS * 1000;
  const stats = new LoadStats(deadline);
  const tag = Date.now().toString(36);
  say(
    `${args.users} users for ${args.durationS} s against ${args.url} (think ${args.thinkMs.join('-')} ms; load average ${loadStart.toFixed(2)} on ${cpus().length} cores)`,
  );
  progress = startProgress(
    () =>
      `load ${elapsed(t0)}/${args.durationS} s: ${stats.completed} turns done, ${stats.started - stats.completed - stats.failed()} in flight, errors ${stats.errorsLine()}`,
    { stream: human },
  );
  // Users start over the first two seconds, as real ones would not all press enter at once.
  await Promise.all(
    Array.from({ length: args.users }, async (_, i) => {
      await new Promise((r) => setTimeout(r, (i / args.users) * 2000));
      await runUser({
        http: args.url,
        ws,
        userId: `load-${tag}-${i}`,
        tenantId: 'load',
        deadline,
        hardDeadline: deadline + GRACE_MS,
        thinkMs: args.thinkMs,
        stats,
      });
    }),
  );
  progress.stop();
  const loadEnd = loadavg()[0]!;
  const { turns_per_s, full_turn_p50_ms, full_turn_p99_ms, ...rest } = stats.summary(args.durationS);
  const rows: BenchRow[] = roundRows([
    { case: 'chat', concurrency: args.users, ops_per_s: turns_per_s!, p50_ms: full_turn_p50_ms!, p99_ms: full_turn_p99_ms!, ...rest },
  ]);
  const notes = [
    `${args.users} users, ${args.durationS} s, think ${args.thinkMs.join('-')} ms, ${args.start ? `platform started here${args.scale.length ? ` with --scale ${args.scale.join(' --scale ')}` : ''}` : `against ${args.url}`}.`,
    `ops_per_s = turns/s (turns finished inside the window); p50/p99 = full turn (send → agent.message); first token = send → first agent.token.`,
    `errors by code: ${stats.errorsLine()}`,
    `${cpus().length} cores; 1-min load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end (the machine is shared).`,
  ];
  const file = writeResults(args.suite, rows, notes);
  if (args.json) printTable([], { json: true, machine: { suite: args.suite, rows, notes, file } });
  else {
    console.log(`\n${args.suite}`);
    // One row with many columns reads better turned on its side.
    printTable(Object.entries(rows[0]!).map(([measure, value]) => ({ measure, value })));
    for (const n of notes) console.log(n);
    console.log(`wrote ${file}`);
  }
  await cleanup();
  process.exit(stats.completed === 0 ? 1 : 0);
} catch (err) {
  const code = report('load', err);
  await cleanup();
  process.exit(code);
}
