import { Redis } from 'ioredis';
import pg from 'pg';
// Not '@parley/testing' itself: it imports vitest's test API, which cannot load in global setup.
import { databaseUrl, redisUrl } from '@parley/testing/env';
import { TEMPLATE_DATABASE, TEMPLATE_PREFIX, TEST_DATABASE_PREFIX, urlForDatabase, withAdmin } from '@parley/testing/pg';
import { migrateDatabase } from '../packages/db/src/migrate.js';

/** Fails the run early with one clear line when Redis or PostgreSQL is not reachable. */
export default async function setup(): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`REDIS_URL ${redisUrl} is not reachable (${(err as Error).message}); start Redis or set REDIS_URL`, { cause: err });
  } finally {
    redis.disconnect();
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`DATABASE_URL ${databaseUrl} is not reachable (${(err as Error).message}); start PostgreSQL or set DATABASE_URL`, { cause: err });
  } finally {
    await client.end().catch(() => {
      /* test setup: nothing to undo if closing fails */
    });
  }
  await prepareTemplateDatabase();
}

/** Databases of files (and templates) from runs that ended without cleaning up; younger ones may be another live run's. */
const STALE_AFTER_S = 30 * 60;

/**
 * Builds the migrated template every test file copies its database from. Its name carries a hash
 * of the migrations, so runs from checkouts with different migrations (engineers, CI) never fight
 * over one template; it is built once, under an advisory lock, and marked ready by its comment.
 */
async function prepareTemplateDatabase(): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query('select pg_advisory_lock(hashtext($1))', ['parley:test-template']);
    try {
      const res = await admin.query<{ comment: string | null }>('select shobj_description(oid, $2) as comment from pg_database where datname = $1', [
        TEMPLATE_DATABASE,
        'pg_database',
      ]);
      if (!res.rows[0]?.comment?.startsWith('ready')) {
        await admin.query(`drop database if exists "${TEMPLATE_DATABASE}" with (force)`);
        await admin.query(`create database "${TEMPLATE_DATABASE}"`);
        await migrateDatabase(urlForDatabase(TEMPLATE_DATABASE));
      }
      // The comment's timestamp is the template's last use, so stale templates can be told apart.
      await admin.query(`comment on database "${TEMPLATE_DATABASE}" is 'ready ${Math.floor(Date.now() / 1000)}'`);
      const now = Date.now() / 1000;
      const others = await admin.query<{ datname: string; comment: string | null }>(
        "select datname, shobj_description(oid, 'pg_database') as comment from pg_database where datname like $1 or datname like $2",
        [`${TEST_DATABASE_PREFIX}%`, `${TEMPLATE_PREFIX}%`],
      );
      for (const { datname, comment } of others.rows) {
        if (datname === TEMPLATE_DATABASE) continue;
        const created = datname.startsWith(TEMPLATE_PREFIX) ? Number(comment?.split(' ')[1]) : Number(datname.slice(TEST_DATABASE_PREFIX.length).split('_')[0]);
        if (!Number.isFinite(created) || now - created > STALE_AFTER_S) {
          await admin.query(`drop database if exists "${datname}" with (force)`).catch(() => {
            /* another run may be dropping it; the next sweep retries */
          });
        }
      }
      await admin.query('drop database if exists parley_test_template with (force)').catch(() => {
        /* another run may be dropping it; the next sweep retries */
      }); // the old fixed name
    } finally {
      await admin.query('select pg_advisory_unlock(hashtext($1))', ['parley:test-template']);
    }
  });
}
