/**
 * Shared test fixtures: every test gets its own Redis key prefix (removed afterwards), so tests
 * run against the machine's real Redis and PostgreSQL without seeing each other.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { test as base } from 'vitest';
import { testDatabaseFixture } from './pg.js';

import { redisUrl } from './env.js';

export { redisUrl, databaseUrl } from './env.js';

export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under a test's prefix. SCAN is fine here: tests only, never in services. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export function newRedis(): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}

export const redisTest = base.extend<{ prefix: string; redis: Redis }>({
  // eslint-disable-next-line no-empty-pattern
  prefix: async ({}, use) => {
    const prefix = uniquePrefix();
    await use(prefix);
    const r = newRedis();
    try {
      await deletePrefix(r, prefix);
    } finally {
      r.disconnect();
    }
  },
  // eslint-disable-next-line no-empty-pattern
  redis: async ({}, use) => {
    const r = newRedis();
    await use(r);
    r.disconnect();
  },
});

/** redisTest plus `db`: this test file's own PostgreSQL database, migrated (see pg.ts). */
export const pgTest = redisTest.extend('db', { scope: 'file' }, async ({}, { onCleanup }) => testDatabaseFixture(onCleanup));

export { waitFor } from './wait-for.js';
export { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, createTestDatabase, dropTestDatabase, urlForDatabase, withAdmin, type TestDatabase } from './pg.js';
export { spawnTs, type TsProcess } from './spawn-ts.js';
