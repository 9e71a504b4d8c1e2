/**
 * What the migration service needs to know about PostgreSQL beyond the copy itself: is it reachable,
 * is its schema current, and is a given failure an outage (back off, keep everything hot) or a
 * problem with one conversation (skip it for a while).
 */
import { assertSchemaCurrent, type Pool } from '@parley/db';

// Node's socket errors and pg-pool's own messages when the server is gone or never answers.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);
const NETWORK_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /connection (?:is )?closed/i, /cannot use a pool after calling end/i];

/**
 * SQLSTATE classes that mean "the database, not this conversation": 08 connection exception,
 * 53 insufficient resources, 57P admin shutdown / crash recovery, 3D000 the database was dropped.
 */
function isOutageSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57P') || code === '3D000';
}

/** drizzle wraps driver errors (DrizzleQueryError → cause), so the whole cause chain is examined. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || isOutageSqlState(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && NETWORK_MESSAGES.some((re) => re.test(message))) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** One short reason for logs and /readyz, e.g. `ECONNREFUSED` or `database "x" does not exist`. */
export function describeDbError(err: unknown): string {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (e instanceof AggregateError && e.errors[0]) return describeDbError(e.errors[0]);
    const cause = (e as { cause?: unknown }).cause;
    if (!cause) return e instanceof Error && e.message ? e.message : String(e);
    e = cause;
  }
  return String(err);
}

export class SchemaBehindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaBehindError';
  }
}

/**
 * Checks once that the schema is current. PostgreSQL may be down when the service starts: the
 * check is then retried before the next copy instead of keeping the service from starting, so the
 * conversations simply stay hot until it is back.
 */
export class DatabaseGate {
  private checked = false;
  private behind: string | null = null;

  constructor(private readonly pool: Pool) {}

  /** Resolves when copies may run; throws the outage error, or SchemaBehindError. */
  async ensureSchema(): Promise<void> {
    if (this.checked) return;
    if (this.behind) throw new SchemaBehindError(this.behind);
    try {
      await assertSchemaCurrent(this.pool);
      this.checked = true;
    } catch (err) {
      if (isDatabaseUnavailable(err)) throw err;
      this.behind = err instanceof Error ? err.message : String(err);
      throw new SchemaBehindError(this.behind);
    }
  }

  /** The /readyz check: a live round trip, so it turns green as soon as PostgreSQL is back. */
  async readiness(timeoutMs = 1_500): Promise<string | undefined> {
    if (this.behind) return this.behind;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.pool.query('select 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return undefined;
    } catch (err) {
      return `PostgreSQL is not reachable (${describeDbError(err)}); conversations stay in Redis and migration retries with backoff`;
    } finally {
      clearTimeout(timer);
    }
  }
}
