// Flags of `npm run chaos`.
import { helpText, parseCommand, type CommandSpec } from '../cli/args.js';
import { UsageError } from '../cli/errors.js';

export interface ChaosArgs {
  users: number;
  durationS: number;
  everyS: number;
  redisSignal: 'SIGTERM' | 'SIGKILL';
  redisCluster: boolean;
  replay: boolean;
  json: boolean;
  full: boolean;
  help: boolean;
}

export const chaosSpec = {
  usage: 'npm run chaos --',
  summary: 'the platform under load while replicas are killed, Redis restarted and PostgreSQL cut; then nothing lost, doubled or stuck',
  flags: {
    users: { type: 'string', arg: '<N>', help: 'simulated users (default 20)' },
    duration: { type: 'string', arg: '<s>', help: 'load and chaos duration (default 50; the whole run stays under 3 minutes)' },
    every: { type: 'string', arg: '<s>', help: 'seconds between kills (default 5)' },
    'no-replay': { type: 'boolean', help: 'leave dead letters alone and count each one as a violation (the strict view)' },
    'redis-kill9': { type: 'boolean', help: 'restart Redis with kill -9 instead of SIGTERM (AOF everysec may then lose up to 1 s of writes)' },
    'redis-cluster': { type: 'boolean', help: 'run on a 3+3 Redis Cluster and kill -9 the master of the agent stream (its replica takes over)' },
    json: { type: 'boolean', help: 'the verdict (counts, events, violations) as JSON on stdout (progress stays on stderr)' },
    full: { type: 'boolean', help: 'whole cells in the tables' },
  },
  notes: ['env: DATABASE_URL (admin access to a PostgreSQL where a throwaway parley_chaos_* database is created and dropped)'],
} satisfies CommandSpec;

export const CHAOS_USAGE = helpText(chaosSpec);

function num(flag: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`${flag} expects a number from ${min} to ${max}, got "${v}"`, CHAOS_USAGE);
  return n;
}

export function parseChaosArgs(argv: string[]): ChaosArgs {
  const { flags: f, help } = parseCommand(chaosSpec, argv);
  return {
    users: num('--users', f.users, 20, 1, 200),
    durationS: num('--duration', f.duration, 50, 20, 100),
    everyS: num('--every', f.every, 5, 1, 60),
    redisSignal: f['redis-kill9'] ? 'SIGKILL' : 'SIGTERM',
    redisCluster: f['redis-cluster'],
    replay: !f['no-replay'],
    json: f.json,
    full: f.full,
    help,
  };
}
