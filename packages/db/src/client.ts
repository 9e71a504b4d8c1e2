/**
 * @parley/db/client — the connection side: a pg pool and a drizzle database bound to the schema.
 */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/parley';

export type Db = NodePgDatabase<typeof schema>;
export type Pool = pg.Pool;

export interface PoolOptions {
  max?: number;
  /** Tag shown in pg_stat_activity, so an operator sees which service holds a connection. */
  applicationName?: string;
  connectionTimeoutMillis?: number;
}

export function createPool(url: string = defaultDatabaseUrl, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'parley',
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5_000,
  });
  // An idle client dropped by the server (restart, failover) emits 'error' on the pool; without a
  // listener that would crash the process instead of just being replaced on the next checkout.
  pool.on('error', () => {});
  // A checked-out client whose socket dies mid-query also emits 'error' on itself: the query
  // rejects anyway (and the caller handles that), but the unheard event would kill the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}

export { schema };
