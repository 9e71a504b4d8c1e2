import { Redis } from 'ioredis';
import pg from 'pg';
import { databaseUrl, redisUrl } from '@parley/testing';

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
}
