/** The vitest-free half of the test kit, for benchmarks and child processes. */
export { redisUrl, databaseUrl } from './env.js';
export { uniquePrefix, deletePrefix, newRedis } from './redis.js';
export { waitFor } from './wait-for.js';
export { fatalMessage, spawnTs, type TsProcess } from './spawn-ts.js';
