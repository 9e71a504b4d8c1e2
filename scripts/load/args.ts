// Command-line flags of `npm run load` (and the subset `npm run chaos` shares), with loopback-only targets.

export interface LoadArgs {
  url: string;
  users: number;
  durationS: number;
  thinkMs: [number, number];
  start: boolean;
  scale: string[];
  suite: string;
  help: boolean;
}

export const LOAD_USAGE = `usage: npm run load -- [flags]
  --url <http url>       gateway to load (default $PARLEY_LOAD_URL or http://127.0.0.1:3000); loopback only
  --users <N>            simulated users, one WebSocket each (default 50)
  --duration <s>         how long new turns are started (default 60); in-flight turns get 20 s more
  --think <min>-<max>    think time between turns in ms (default 1000-3000)
  --start                start the platform with the launcher (npm start) on free ports, stop it at the end
  --scale <app>=<N>      passed to the launcher with --start (repeatable), e.g. --scale agent-execution=2
  --suite <name>         results file bench/results/<name>.json (default load)`;

function positive(name: string, v: string | undefined, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} expects a whole number from 1 to ${max}, got "${v ?? ''}"`);
  return n;
}

/** Only loopback targets: a load tool must never be pointed at someone else's server by a typo. */
export function assertLoopback(raw: string): string {
  const u = new URL(raw);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !host.startsWith('127.')) {
    throw new Error(`${raw} is not a loopback address; the load and chaos suites only target this machine`);
  }
  return u.origin;
}

export function parseLoadArgs(argv: string[], env: NodeJS.ProcessEnv): LoadArgs {
  const a: LoadArgs = {
    url: env['PARLEY_LOAD_URL'] ?? 'http://127.0.0.1:3000',
    users: 50,
    durationS: 60,
    thinkMs: [1000, 3000],
    start: false,
    scale: [],
    suite: 'load',
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--url':
        a.url = value() ?? '';
        break;
      case '--users':
        a.users = positive('--users', value(), 2000);
        break;
      case '--duration':
        a.durationS = positive('--duration', value(), 3600);
        break;
      case '--think': {
        const m = /^(\d+)-(\d+)$/.exec(value() ?? '');
        if (!m || Number(m[1]) > Number(m[2])) throw new Error('--think expects <min>-<max> in ms, e.g. 1000-3000');
        a.thinkMs = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--start':
        a.start = true;
        break;
      case '--scale':
        a.scale.push(value() ?? '');
        break;
      case '--suite': {
        const s = value() ?? '';
        if (!/^[\w-]+$/.test(s)) throw new Error('--suite expects a file-name-safe word');
        a.suite = s;
        break;
      }
      case '--help':
      case '-h':
        a.help = true;
        break;
      default:
        throw new Error(`unknown flag "${argv[i]}"`);
    }
  }
  if (a.scale.length && !a.start) throw new Error('--scale only applies with --start (the launcher is what scales)');
  a.url = assertLoopback(a.url);
  return a;
}
