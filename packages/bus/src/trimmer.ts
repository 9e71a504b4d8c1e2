import type { RedisClient } from './connection.js';

/**
 * Trims a stream by its consumer groups' progress (XTRIM MINID), never by a blind MAXLEN: nothing
 * newer than the oldest pending entry, or than the last delivered one, is ever removed, so an action
 * no consumer has finished always survives. With no group there is no trimming at all.
 */
export async function trimByProgress(cmd: RedisClient, stream: string): Promise<string | null> {
  const groups = (await cmd.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>;
  if (groups.length === 0) return null;
  let floor: string | null = null;
  for (const info of groups) {
    const g = fieldsToObject(info);
    const name = String(g.name);
    let keep = String(g['last-delivered-id']);
    if (Number(g.pending) > 0) {
      const summary = (await cmd.xpending(stream, name)) as [number, string | null, string | null, unknown];
      if (summary[1]) keep = summary[1];
    }
    if (floor === null || compareIds(keep, floor) < 0) floor = keep;
  }
  if (floor === null || floor === '0-0') return null;
  await cmd.xtrim(stream, 'MINID', '~', floor);
  return floor;
}

function fieldsToObject(list: Array<string | number | null>): Record<string, string | number | null> {
  const o: Record<string, string | number | null> = {};
  for (let i = 0; i + 1 < list.length; i += 2) o[String(list[i])] = list[i + 1] ?? null;
  return o;
}

export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
