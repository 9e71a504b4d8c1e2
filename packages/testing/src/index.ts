/**
 * Shared test fixtures: every test gets its own Redis key prefix (removed afterwards), so tests
 * run against the machine's real Redis and PostgreSQL without seeing each other.
 */
import type { Redis } from 'ioredis';
import { test as base } from 'vitest';
import { testRedisTarget } from './env.js';
import { testDatabaseFixture } from './pg.js';
import { deletePrefix, newRedis, newTestRedis, uniquePrefix, type TestRedis } from './redis.js';

export * from './tools.js';

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

/**
 * Like redisTest, against the run's Redis whichever it is: the single node, or in the `cluster` test
 * project a Redis Cluster (vitest.config.ts lists the files that run there as well). `redis` is then a
 * cluster client, and `target` is what the code under test connects to.
 */
export const redisModeTest = base.extend<{ prefix: string; redis: TestRedis; target: ReturnType<typeof testRedisTarget> }>({
  // eslint-disable-next-line no-empty-pattern
  target: async ({}, use) => {
    await use(testRedisTarget());
  },
  // eslint-disable-next-line no-empty-pattern
  prefix: async ({}, use) => {
    const prefix = uniquePrefix();
    await use(prefix);
    const r = newTestRedis();
    try {
      await deletePrefix(r, prefix);
    } finally {
      r.disconnect();
    }
  },
  // eslint-disable-next-line no-empty-pattern
  redis: async ({}, use) => {
    const r = newTestRedis();
    await use(r);
    r.disconnect();
  },
});

/** redisTest plus `db`: this test file's own PostgreSQL database, migrated (see pg.ts). */
// eslint-disable-next-line no-empty-pattern -- vitest reads a fixture's dependencies from its destructuring
export const pgTest = redisTest.extend('db', { scope: 'file' }, async ({}, { onCleanup }) => testDatabaseFixture(onCleanup));

export {
  FORGET_LAST_MIGRATION,
  TEMPLATE_DATABASE,
  TEST_DATABASE_PREFIX,
  createTestDatabase,
  dropTestDatabase,
  urlForDatabase,
  withAdmin,
  type TestDatabase,
} from './pg.js';
