// npm run load — N simulated users chatting over WebSocket (through @parley/client) with a running
// Parley, or one it starts itself (--start); prints turns/s, first-token and full-turn latency, errors.
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { deletePrefix } from '@parley/testing/tools';
import { report } from '../bench/lib/results.js';
import { LOAD_USAGE, parseLoadArgs, type LoadArgs } from './load/args.js';
import { startPlatform, type Platform } from './load/platform.js';
import { LoadStats } from './load/stats.js';
import { runUser } from './load/user.js';

const say = (m: string) => console.log(`load ${m}`);
const GRACE_MS = 20_000;

let args: LoadArgs;
try {
  args = parseLoadArgs(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${(err as Error).message}\n${LOAD_USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(LOAD_USAGE);
  process.exit(0);
}

let platform: Platform | undefined;
let stopping = false;
async function cleanup(): Promise<void> {
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
    platform = await startPlatform(args.scale, say);
    args.url = platform.gatewayUrl;
  }
  const health = await fetch(`${args.url}/healthz`, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e);
  if (health instanceof Error || !health.ok) {
    throw new Error(`no gateway answers ${args.url}/healthz (${health instanceof Error ? health.message : health.status}); run \`npm start\` or pass --start`);
  }
  const ws = `${args.url.replace(/^http/, 'ws')}/ws/chat`;
  const loadStart = loadavg()[0]!;
  const t0 = performance.now();
  const deadline = t0 + args.durationS * 1000;
  const stats = new LoadStats(deadline);
  const tag = Date.now().toString(36);
  say(
    `${args.users} users for ${args.durationS} s against ${args.url} (think ${args.thinkMs.join('-')} ms; load average ${loadStart.toFixed(2)} on ${cpus().length} cores)`,
  );
  const progress = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    say(`${s.toFixed(0)} s: ${stats.completed} turns done, ${stats.started - stats.completed - stats.failed()} in flight, errors ${stats.errorsLine()}`);
  }, 10_000);
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
  clearInterval(progress);
  const loadEnd = loadavg()[0]!;
  const summary = stats.summary(args.durationS);
  const { turns_per_s, full_turn_p50_ms, full_turn_p99_ms, ...rest } = summary;
  report(
    args.suite,
    [{ case: 'chat', concurrency: args.users, ops_per_s: turns_per_s!, p50_ms: full_turn_p50_ms!, p99_ms: full_turn_p99_ms!, ...rest }],
    [
      `${args.users} users, ${args.durationS} s, think ${args.thinkMs.join('-')} ms, ${args.start ? `platform started here${args.scale.length ? ` with --scale ${args.scale.join(' --scale ')}` : ''}` : `against ${args.url}`}.`,
      `ops_per_s = turns/s (turns finished inside the window); p50/p99 = full turn (send → agent.message); first token = send → first agent.token.`,
      `errors by code: ${stats.errorsLine()}`,
      `${cpus().length} cores; 1-min load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end (the machine is shared).`,
    ],
  );
  await cleanup();
  process.exit(stats.completed === 0 ? 1 : 0);
} catch (err) {
  console.error(`load: ${(err as Error).message}`);
  await cleanup();
  process.exit(1);
}
