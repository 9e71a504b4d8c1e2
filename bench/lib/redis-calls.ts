/**
 * Commands the Redis server has executed so far, from INFO commandstats (commands run by Lua scripts
 * included, the INFO calls that read it excluded). Two readings around a phase give its commands per
 * operation: a count the machine's load cannot change, unlike latency and CPU time.
 */
export async function redisCalls(redis: { info(section: 'commandstats'): Promise<string> }): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') calls += Number(m[2]);
  return calls;
}
