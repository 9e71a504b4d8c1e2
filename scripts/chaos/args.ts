// Flags of `npm run chaos`.
export interface ChaosArgs {
  users: number;
  durationS: number;
  everyS: number;
  redisSignal: 'SIGTERM' | 'SIGKILL';
  replay: boolean;
  help: boolean;
}

export const CHAOS_USAGE = `usage: npm run chaos -- [flags]
  --users <N>            simulated users (default 20)
  --duration <s>         load and chaos duration (default 50; the whole run stays under 3 minutes)
  --every <s>            seconds between kills (default 5)
  --no-replay            leave dead letters alone and count each one as a violation (the strict view)
  --redis-kill9          restart Redis with kill -9 instead of SIGTERM (AOF everysec may then lose up to 1 s of writes)
env: DATABASE_URL (admin access to a PostgreSQL where a throwaway parley_chaos_* database is created and dropped)`;

export function parseChaosArgs(argv: string[]): ChaosArgs {
  const a: ChaosArgs = { users: 20, durationS: 50, everyS: 5, redisSignal: 'SIGTERM', replay: true, help: false };
  const num = (flag: string, v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${flag} expects a number from ${min} to ${max}, got "${v ?? ''}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--users') a.users = num(flag, value(), 1, 200);
    else if (flag === '--duration') a.durationS = num(flag, value(), 20, 100);
    else if (flag === '--every') a.everyS = num(flag, value(), 1, 60);
    else if (flag === '--redis-kill9') a.redisSignal = 'SIGKILL';
    else if (flag === '--no-replay') a.replay = false;
    else if (flag === '--help' || flag === '-h') a.help = true;
    else throw new Error(`unknown flag "${argv[i]}"`);
  }
  return a;
}
