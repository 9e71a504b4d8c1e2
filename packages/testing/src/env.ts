/** Where the tests find Redis and PostgreSQL. Free of vitest imports, so tests/global-setup.ts can use it. */
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
