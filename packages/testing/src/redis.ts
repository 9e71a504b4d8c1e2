import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { redisUrl, testRedisTarget } from './env.js';

export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomUUID().slice(0, 8)}`;
}

/** Redis or a Redis Cluster: what the tests' fixtures hand out, in the mode the run is in. */
export type TestRedis = Redis | Cluster;

/** Deletes every key under a test's prefix, on every master of a cluster. SCAN is fine here: tests only, never in services. */
export async function deletePrefix(redis: TestRedis, prefix: string): Promise<void> {
  // A cluster client lists its nodes once it has connected: a command first.
  if (redis instanceof Cluster) await redis.ping();
  for (const node of nodesOf(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // One key at a time on a cluster (keys of one node span slots); a pipeline per call on one node.
      for (const key of keys) await node.unlink(key);
    } while (cursor !== '0');
  }
}

/** A client of the single node (REDIS_URL). */
export function newRedis(): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}

/** A client of the run's Redis: the single node, or the cluster the `cluster` project started (see env.ts). */
export function newTestRedis(): TestRedis {
  const target = testRedisTarget();
  if (typeof target === 'string') return newRedis();
  return new Cluster(target.cluster, { redisOptions: { maxRetriesPerRequest: null } });
}

/** The node clients behind a test client: itself on a single node, each master of a cluster. */
export function nodesOf(redis: TestRedis): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}
