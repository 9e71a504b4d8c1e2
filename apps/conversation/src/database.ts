import { assertSchemaCurrent, createPool, redact, type Pool } from '@parley/db';
import type { Logger } from 'pino';

/**
 * Opens the pool and refuses to serve on a database that is unreachable or behind the code's
 * migrations: one line that says what to do, exit 1.
 */
export async function openDatabase(url: string, opts: { max: number; applicationName: string }, log: Logger): Promise<Pool> {
  const pool = createPool(url, opts);
  try {
    await assertSchemaCurrent(pool);
    return pool;
  } catch (err) {
    const e = err as Error & { code?: string };
    const message = e.message.startsWith('database schema is behind')
      ? e.message
      : `DATABASE_URL ${redact(url)} is not reachable (${e.code ?? e.message}); start PostgreSQL or set DATABASE_URL`;
    log.fatal(message);
    await pool.end().catch(() => { /* exiting: the pool goes with the process */ });
    process.exit(1);
  }
}
