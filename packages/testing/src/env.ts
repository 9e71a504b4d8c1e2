/** Where the tests find Redis and PostgreSQL. Free of vitest imports, so tests/global-setup.ts can use it. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The Redis a test's services and fixtures use: the single node, or — in the `cluster` test project —
 * the Redis Cluster that tests/cluster-setup.ts started for the run (its seed nodes arrive as
 * PARLEY_TEST_REDIS_CLUSTER, set for that project's test processes only).
 */
export function testRedisTarget(): string | { cluster: Array<{ host: string; port: number }> } {
  const nodes = process.env.PARLEY_TEST_REDIS_CLUSTER;
  if (!nodes) return redisUrl;
  return {
    cluster: nodes.split(',').map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    }),
  };
}

/** The variables a service started by a test needs to reach the run's Redis (the cluster's seed nodes in the `cluster` project). */
export function testRedisEnv(): { REDIS_URL: string; REDIS_CLUSTER_NODES?: string } {
  const nodes = process.env.PARLEY_TEST_REDIS_CLUSTER;
  return nodes ? { REDIS_URL: redisUrl, REDIS_CLUSTER_NODES: nodes } : { REDIS_URL: redisUrl };
}
