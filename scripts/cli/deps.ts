// Connections for command-line tools that fail within ~2 s with one line naming what and where,
// instead of ioredis's unhandled-error stack and a "Connection is closed." after its retries.
import { Redis } from 'ioredis';
import pg from 'pg';
import { dependencyDown } from './errors.js';

const CONNECT_MS = 1500;

/** A connected Redis, or DependencyDown. Commands fail instead of queueing while the link is down. */
export async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: unknown;
  redis.on('error', (err) => (lastError = err)); // the one line below says it; no unhandled-error stack
  try {
    await withTimeout(redis.connect(), CONNECT_MS + 500);
    await withTimeout(redis.ping(), CONNECT_MS);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw dependencyDown('Redis', url, lastError ?? err, 'start it or set REDIS_URL');
  }
}

/** Resolves when PostgreSQL at `url` answers `select 1`, else DependencyDown. */
export async function probePostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_MS });
  client.on('error', () => {
    /* a connect failure is thrown by connect() below and reported there */
  });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw dependencyDown('PostgreSQL', url, err, 'start it or set DATABASE_URL');
  } finally {
    await client.end().catch(() => {
      /* the answer is known; a failed close ends with the process */
    });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
