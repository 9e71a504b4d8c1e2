// Connections for command-line tools that fail within ~2 s with one line naming what and where,
// instead of ioredis's unhandled-error stack and a "Connection is closed." after its retries.
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { dependencyDown } from './errors.js';

const CONNECT_MS = 1500;

/**
 * A connected Redis — the cluster of `clusterNodes` (REDIS_CLUSTER_NODES) when given, else the node at
 * `url` — or DependencyDown. Commands fail instead of queueing while the link is down.
 */
export async function connectRedis(url: string, clusterNodes?: string): Promise<Redis | Cluster> {
  const redis = clusterNodes
    ? new Cluster(
        clusterNodes.split(',').map((hp) => ({ host: hp.slice(0, hp.lastIndexOf(':')), port: Number(hp.slice(hp.lastIndexOf(':') + 1)) })),
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: () => null,
          redisOptions: { connectTimeout: CONNECT_MS, maxRetriesPerRequest: 0, ...credentialsOf(url) },
        },
      )
    : new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  let lastError: unknown;
  redis.on('error', (err) => (lastError = err)); // the one line below says it; no unhandled-error stack
  try {
    await withTimeout(redis.connect(), CONNECT_MS + 500);
    await withTimeout(redis.ping(), CONNECT_MS);
    return redis;
  } catch (err) {
    redis.disconnect();
    if (clusterNodes) throw dependencyDown('the Redis Cluster', clusterNodes, lastError ?? err, 'start it or fix REDIS_CLUSTER_NODES');
    throw dependencyDown('Redis', url, lastError ?? err, 'start it or set REDIS_URL');
  }
}

/** The services' rule: a cluster's nodes take REDIS_URL's user and password. */
function credentialsOf(url: string): { username?: string; password?: string } {
  const u = new URL(url);
  return { ...(u.username ? { username: decodeURIComponent(u.username) } : {}), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
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
