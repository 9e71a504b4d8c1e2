// Command-line flags of `npm run load`, with loopback-only targets.
import { helpText, parseCommand, type CommandSpec } from '../cli/args.js';
import { UsageError } from '../cli/errors.js';

export interface LoadArgs {
  url: string;
  users: number;
  durationS: number;
  thinkMs: [number, number];
  start: boolean;
  scale: string[];
  suite: string;
  json: boolean;
  help: boolean;
}

export const loadSpec = {
  usage: 'npm run load --',
  summary: 'simulated users chatting over WebSocket; prints turns/s, first-token and full-turn latency, errors',
  flags: {
    url: { type: 'string', arg: '<http url>', help: 'gateway to load (default $PARLEY_LOAD_URL or http://127.0.0.1:3000); loopback only' },
    users: { type: 'string', arg: '<N>', help: 'simulated users, one WebSocket each (default 50)' },
    duration: { type: 'string', arg: '<s>', help: 'how long new turns are started (default 60); in-flight turns get 20 s more' },
    think: { type: 'string', arg: '<min>-<max>', help: 'think time between turns in ms (default 1000-3000)' },
    start: { type: 'boolean', help: 'start the platform with the launcher (npm start) on free ports, stop it at the end' },
    scale: { type: 'string', multiple: true, arg: '<app>=<N>', help: 'passed to the launcher with --start (repeatable), e.g. --scale agent-execution=2' },
    suite: { type: 'string', arg: '<name>', help: 'results file bench/results/<name>.json (default load)' },
    json: { type: 'boolean', help: 'the summary as JSON on stdout (progress stays on stderr)' },
  },
} satisfies CommandSpec;

export const LOAD_USAGE = helpText(loadSpec);

function positive(name: string, v: string | undefined, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name} expects a whole number from 1 to ${max}, got "${v ?? ''}"`, LOAD_USAGE);
  return n;
}

/** Only loopback targets: a load tool must never be pointed at someone else's server by a typo. */
export function assertLoopback(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`--url expects an http URL, got "${raw}"`, LOAD_USAGE);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !host.startsWith('127.')) {
    throw new UsageError(`${raw} is not a loopback address; the load and chaos suites only target this machine`, LOAD_USAGE);
  }
  return u.origin;
}

export function parseLoadArgs(argv: string[], env: NodeJS.ProcessEnv): LoadArgs {
  const { flags: f, help } = parseCommand(loadSpec, argv);
  const a: LoadArgs = {
    url: f.url ?? env['PARLEY_LOAD_URL'] ?? 'http://127.0.0.1:3000',
    users: f.users === undefined ? 50 : positive('--users', f.users, 2000),
    durationS: f.duration === undefined ? 60 : positive('--duration', f.duration, 3600),
    thinkMs: [1000, 3000],
    start: f.start,
    scale: f.scale,
    suite: f.suite ?? 'load',
    json: f.json,
    help,
  };
  if (help) return a;
  if (f.think !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(f.think);
    if (!m || Number(m[1]) > Number(m[2])) throw new UsageError('--think expects <min>-<max> in ms, e.g. 1000-3000', LOAD_USAGE);
    a.thinkMs = [Number(m[1]), Number(m[2])];
  }
  if (!/^[\w-]+$/.test(a.suite)) throw new UsageError('--suite expects a file-name-safe word', LOAD_USAGE);
  if (a.scale.length && !a.start) throw new UsageError('--scale only applies with --start (the launcher is what scales)', LOAD_USAGE);
  a.url = assertLoopback(a.url);
  return a;
}
