/**
 * The one "is the database down?" classifier. An outage (PostgreSQL unreachable, restarting, out of
 * connections) is worth waiting out or retrying and leaves data where it is; anything else (a
 * constraint, bad data, a syntax error) is a problem of that one statement and retrying changes nothing.
 */

// Node's socket errors when the server is gone or never answers.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

// pg and pg-pool report some outages by message only.
const OUTAGE_MESSAGES = [
  /connection terminated/i,
  /connection timeout/i,
  /timeout exceeded when trying to connect/i,
  /connection (?:is )?closed/i,
  /connection error/i,
  /cannot use a pool after calling end/i,
  /the database system is (?:starting up|shutting down|in recovery mode)/i,
  /not queryable/i,
];

/**
 * SQLSTATE classes that mean "the database, not this statement": 08 connection exception,
 * 53 insufficient resources (too many connections, disk full), 57P admin shutdown / crash recovery /
 * cannot connect now, 3D000 the database does not exist (dropped, or not created yet).
 */
function isOutageSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57P') || code === '3D000';
}

/** drizzle wraps driver errors (DrizzleQueryError → cause), so the cause chain is examined, and AggregateErrors (dual-stack connects) too. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== 'object') return false;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || isOutageSqlState(code))) return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && OUTAGE_MESSAGES.some((re) => re.test(message))) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** One short reason for logs and /readyz, e.g. `ECONNREFUSED` or `database "x" does not exist`; never a URL or a parameter. */
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
