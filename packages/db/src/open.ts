/**
 * The one way a service opens PostgreSQL: a pool, a drizzle database on it, and the schema check.
 * A service never serves on a database older than its code, and says in one line what to do.
 */
import { safeUrl } from '@parley/service-kit/safe-url';
import { createDb, createPool, type Db, type Pool, type PoolOptions } from './client.js';
import { assertSchemaCurrent, SchemaBehindError } from './migrate.js';
import { describeDbError, isDatabaseUnavailable } from './unavailable.js';

/** Start-up refused: the message is the whole story for the operator (what is wrong, what to run). */
export class DatabaseRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseRefusedError';
  }
}

export interface OpenDatabaseOptions extends PoolOptions {
  /**
   * `refuse` (default): an unreachable database refuses the start like a schema behind its migrations.
   * `wait`: a service that keeps its data elsewhere until PostgreSQL is back (migration) starts anyway,
   * with `schemaChecked` false; it calls `checkSchema()` before its first write. A schema behind is
   * refused either way.
   */
  whenUnreachable?: 'refuse' | 'wait';
}

export interface Database {
  pool: Pool;
  db: Db;
  /** Whether the schema check has passed; false only after an unreachable start with `wait`. */
  readonly schemaChecked: boolean;
  /** Passes once, then returns at once; throws the outage error, or DatabaseRefusedError when behind. */
  checkSchema(): Promise<void>;
  /** The /readyz check: undefined after a live round trip within `timeoutMs`, else why not. */
  readiness(timeoutMs?: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const { whenUnreachable = 'refuse', ...poolOptions } = opts;
  const pool = createPool(url, poolOptions);
  let checked = false;
  let behind: DatabaseRefusedError | null = null;
  const database: Database = {
    pool,
    db: createDb(pool),
    get schemaChecked() {
      return checked;
    },
    async checkSchema() {
      if (checked) return;
      if (behind) throw behind;
      try {
        await assertSchemaCurrent(pool);
        checked = true;
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        behind = new DatabaseRefusedError(
          err instanceof SchemaBehindError ? err.message : `DATABASE_URL ${safeUrl(url)} cannot be used (${describeDbError(err)})`,
          { cause: err },
        );
        throw behind;
      }
    },
    readiness: (timeoutMs = 1_500) => (behind ? Promise.resolve(behind.message) : roundTrip(pool, timeoutMs)),
    close: () => pool.end(),
  };
  try {
    await database.checkSchema();
  } catch (err) {
    if (whenUnreachable === 'wait' && isDatabaseUnavailable(err)) return database;
    await pool.end().catch(() => {
      /* refusing to start: the pool goes with the process */
    });
    if (err instanceof DatabaseRefusedError) throw err;
    throw new DatabaseRefusedError(`DATABASE_URL ${safeUrl(url)} is not reachable (${describeDbError(err)}); start PostgreSQL or set DATABASE_URL`, {
      cause: err,
    });
  }
  return database;
}

async function roundTrip(pool: Pool, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      pool.query('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    return `PostgreSQL is not reachable (${describeDbError(err)})`;
  } finally {
    clearTimeout(timer);
  }
}
