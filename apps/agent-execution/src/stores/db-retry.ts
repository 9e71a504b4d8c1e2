/**
 * Riding out a short PostgreSQL outage (restart, failover, a cut network) inside the handler. A
 * handler that crashes spends one of `agent.run`'s three deliveries, and the bus's in-place retries
 * (250 ms, 1 s) all fall inside a 4 s outage: the run would be dead-lettered and its record left
 * PENDING or RUNNING. Waiting here instead spends no delivery, and the process stays alive, so the
 * bus keeps extending its claim meanwhile.
 */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);
const TRANSIENT_MESSAGE = /connection terminated|connection timeout|timeout exceeded when trying to connect|connection error|the database system is (starting up|shutting down|in recovery mode)|not queryable/i;

/** A connection-level failure (SQLSTATE class 08, server shutting down, refused, reset), worth retrying; not a constraint or a syntax error. */
export function isTransientDbError(err: unknown): boolean {
  // drizzle wraps the driver's error; look down the cause chain.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) return true;
    if (TRANSIENT_MESSAGE.test(e.message)) return true;
  }
  return false;
}

export interface DbRetry {
  /** Total time to keep retrying one operation; 0 tries once. */
  budgetMs: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

/** Runs `fn`, retrying transient connection failures with backoff (100 ms doubling, at most 2 s) until `budgetMs` is spent. */
export async function withDbRetry<T>(fn: () => Promise<T>, o: DbRetry): Promise<T> {
  const deadline = Date.now() + o.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = Math.min(100 * 2 ** (attempt - 1), 2_000);
      if (!isTransientDbError(err) || Date.now() + wait > deadline) throw err;
      o.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
