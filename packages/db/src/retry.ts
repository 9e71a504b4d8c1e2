/**
 * Riding out a short PostgreSQL outage (restart, failover, a cut network) inside the operation that
 * needs the database, instead of failing it: what counts as an outage is `isDatabaseUnavailable`, the
 * one classifier. Retrying only makes sense while the pool can still answer, so it stops when `signal`
 * aborts (the service closing, before its pool ends): "cannot use a pool after calling end" is an
 * outage to the classifier (for a loop that waits for the database, it is "not now"), and would
 * otherwise be retried until the budget ran out.
 */
import { isDatabaseUnavailable } from './unavailable.js';

export interface DbRetryOptions {
  /** Total time to keep retrying one operation; 0 tries once. */
  budgetMs: number;
  /** No retry once aborted, and a backoff in progress ends at once; the last database error is thrown. */
  signal?: AbortSignal | undefined;
  onRetry?: ((err: unknown, attempt: number) => void) | undefined;
}

/** Runs `fn`, retrying outages with backoff (100 ms doubling, at most 2 s) until `budgetMs` is spent or `signal` aborts; anything else is thrown at once. */
export async function withDbRetry<T>(fn: () => Promise<T>, o: DbRetryOptions): Promise<T> {
  const deadline = Date.now() + o.budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = Math.min(100 * 2 ** (attempt - 1), 2_000);
      if (!isDatabaseUnavailable(err) || o.signal?.aborted || Date.now() + wait > deadline) throw err;
      o.onRetry?.(err, attempt);
      if (!(await sleep(wait, o.signal))) throw err;
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
