/**
 * What every service a bench starts is given: its Redis, database and key prefix, an ephemeral port on
 * loopback, info logs, dev mode, and event-loop delay sampled at 1 ms (the stall columns ask about
 * 1–10 ms, which the default 10 ms sampling mostly misses).
 */
export function serviceEnv(redisUrl: string, databaseUrl: string, prefix: string): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    BUS_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    PARLEY_MODE: 'dev',
    METRICS_EVENT_LOOP_RESOLUTION_MS: '1',
  };
}
