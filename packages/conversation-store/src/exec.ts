import type { ChainableCommander } from 'ioredis';

/**
 * ioredis resolves a pipeline's (and a MULTI's) exec with one [error, result] per command: a failed
 * command does not reject it. Unchecked, a failed index write (WRONGTYPE, OOM under maxmemory, a
 * READONLY replica after a failover) looked like success and the save was answered, so the
 * redelivery that would have repaired the index never came. Every caller here needs every result.
 */
export async function execAll(p: ChainableCommander): Promise<unknown[]> {
  const res = await p.exec();
  // null: a MULTI aborted by WATCH; none of ours watches, so it is a broken connection state.
  if (!res) throw new Error('Redis transaction was aborted');
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
