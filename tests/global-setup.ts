import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
// Not '@parley/testing' itself: it imports vitest's test API, which cannot load in global setup.
import { databaseUrl, redisUrl } from '@parley/testing/env';
import { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, urlForDatabase, withAdmin } from '@parley/testing/pg';
import { migrateDatabase, migrationsFolder } from '../packages/db/src/migrate.js';

/** Fails the run early with one clear line when Redis or PostgreSQL is not reachable. */
export default async function setup(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`REDIS_URL ${redisUrl} is not reachable (${(err as Error).message}); start Redis or set REDIS_URL`);
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`DATABASE_URL ${databaseUrl} is not reachable (${(err as Error).message}); start PostgreSQL or set DATABASE_URL`);
  } finally {
    await client.end().catch(() => {});
  }
  await prepareTemplateDatabase();
}

/** Databases of files from runs that ended without cleaning up (killed runs); younger ones may be another live run's. */
const STALE_AFTER_S = 30 * 60;

/**
 * Builds the migrated template every test file copies its database from. Several engineers and CI
 * jobs share one server, so the template is rebuilt only when the migrations changed (their hash is
 * kept as the database comment), under an advisory lock.
 */
async function prepareTemplateDatabase(): Promise<void> {
  const hash = migrationsHash();
  await withAdmin(async (admin) => {
    await admin.query('select pg_advisory_lock(hashtext($1))', ['parley:test-template']);
    try {
      const res = await admin.query<{ comment: string | null }>(
        'select shobj_description(oid, $2) as comment from pg_database where datname = $1',
        [TEMPLATE_DATABASE, 'pg_database'],
      );
      if (res.rows[0]?.comment !== hash) {
        await admin.query(`drop database if exists "${TEMPLATE_DATABASE}" with (force)`);
        await admin.query(`create database "${TEMPLATE_DATABASE}"`);
        await migrateDatabase(urlForDatabase(TEMPLATE_DATABASE));
        await admin.query(`comment on database "${TEMPLATE_DATABASE}" is '${hash}'`);
      }
      const stale = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${TEST_DATABASE_PREFIX}%`]);
      const now = Date.now() / 1000;
      for (const { datname } of stale.rows) {
        const created = Number(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0]);
        if (Number.isFinite(created) && now - created > STALE_AFTER_S) {
          await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => {});
        }
      }
    } finally {
      await admin.query('select pg_advisory_unlock(hashtext($1))', ['parley:test-template']);
    }
  });
}

function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(migrationsFolder).filter((n) => n.endsWith('.sql')).sort()) {
    h.update(f).update(readFileSync(join(migrationsFolder, f)));
  }
  return h.digest('hex').slice(0, 32);
}
