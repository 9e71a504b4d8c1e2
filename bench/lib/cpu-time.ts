import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // Linux USER_HZ; /proc/<pid>/stat counts utime and stime in these ticks.

/**
 * CPU milliseconds (user + system) a process has used so far, read from /proc: the cost of a phase
 * per operation, which the machine's other load does not inflate the way it inflates latency.
 * Null where /proc is missing (not Linux) or the process is gone.
 */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
  } catch {
    return null;
  }
}

/**
 * Read and write system calls a process has made so far (/proc/<pid>/io syscr + syscw): on loopback
 * every socket write runs the receiver's side of TCP too, so the count of writes is a cost, and unlike
 * CPU time a count machine noise cannot move. Null where /proc is missing or the process is gone.
 */
export function ioCalls(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/^syscr: (\d+)/m.exec(io)?.[1]) + Number(/^syscw: (\d+)/m.exec(io)?.[1]);
  } catch {
    return null;
  }
}

/** CPU ms the Redis server has used so far (INFO cpu: used_cpu_user + used_cpu_sys, in seconds). */
export async function redisCpuMs(redis: { info(section: 'cpu'): Promise<string> }): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Pids of the processes whose command name is `name` (e.g. every PostgreSQL backend), from /proc. */
export function pidsNamed(name: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() === name) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU ms used so far by every process named `name` that is alive now. */
export function cpuMsNamed(name: string): number {
  return pidsNamed(name).reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

type RedisInfo = { info(section: 'cpu'): Promise<string> };

/**
 * CPU ms used so far by each named process, plus the Redis server (`redis`, when given a client; the
 * sum of every node when given one client per node of a cluster) and every PostgreSQL backend
 * (`postgres`, when asked). Two snapshots around a phase give its cost.
 */
export async function cpuSnapshot(
  pids: Record<string, number | undefined>,
  host: { redis?: RedisInfo | RedisInfo[]; postgres?: boolean } = {},
): Promise<Record<string, number>> {
  const snap: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) snap[name] = cpuMs(pid) ?? NaN;
  if (host.redis) {
    const nodes = [host.redis].flat();
    snap['redis'] = (await Promise.all(nodes.map(redisCpuMs))).reduce((a, b) => a + b, 0);
  }
  if (host.postgres) snap['postgres'] = cpuMsNamed('postgres');
  return snap;
}

/** CPU ms per operation of each snapshot key between `before` and `after` (NaN where a process was gone). */
export function cpuPerOp(before: Record<string, number>, after: Record<string, number>, ops: number): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, ((after[k] ?? NaN) - (before[k] ?? NaN)) / Math.max(1, ops)]));
}
