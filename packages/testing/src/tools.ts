/** The vitest-free half of the test kit, for benchmarks and child processes. */
export { redisUrl, databaseUrl } from './env.js';
export { uniquePrefix, deletePrefix, newRedis, newTestRedis, nodesOf, type TestRedis } from './redis.js';
export { testRedisEnv, testRedisTarget } from './env.js';
export { redisRoutingErrors, watchRedisRouting } from './redis-routing-watch.js';
export { startRedisCluster, type RedisCluster } from './redis-cluster.js';
export { waitFor } from './wait-for.js';
export { fatalMessage, spawnTs, type TsProcess } from './spawn-ts.js';
