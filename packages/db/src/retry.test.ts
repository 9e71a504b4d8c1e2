import { pgTest as test } from '@parley/testing';
import { describe, expect } from 'vitest';
import { createPool } from './client.js';
import { withDbRetry } from './retry.js';

/** A pool on a port nothing listens on: every query fails with a real ECONNREFUSED. */
const deadPool = () => createPool('postgres://postgres@127.0.0.1:1/parley', { max: 1, connectionTimeoutMillis: 500 });

describe('withDbRetry: an outage waited out, anything else thrown at once', () => {
  test('an outage that ends within the budget: the operation succeeds after retries', async ({ db }) => {
    const dead = deadPool();
    let attempts = 0;
    const retried: number[] = [];
    const result = await withDbRetry(
      async () => {
        attempts++;
        const pool = attempts < 3 ? dead : db.pool; // PostgreSQL comes back on the third attempt
        return (await pool.query<{ one: number }>('select 1 as one')).rows[0]?.one;
      },
      { budgetMs: 10_000, onRetry: (_err, attempt) => retried.push(attempt) },
    );
    await dead.end();
    expect(result).toBe(1);
    expect(retried).toEqual([1, 2]);
  });

  test('a statement error is not an outage: thrown on the first attempt', async ({ db }) => {
    let attempts = 0;
    const err = await withDbRetry(() => (attempts++, db.pool.query('select * from no_such_table')), { budgetMs: 10_000 }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(err).toMatchObject({ code: '42P01' });
  });

  test('an outage longer than the budget: the outage error once the budget is spent', async () => {
    const dead = deadPool();
    let attempts = 0;
    const err = await withDbRetry(() => (attempts++, dead.query('select 1')), { budgetMs: 400 }).catch((e: unknown) => e);
    await dead.end();
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(attempts).toBeGreaterThanOrEqual(2); // waits of 100 and 200 ms fit in 400
  });

  test('aborted mid-outage (the service closing): the backoff ends at once, no further attempt', async () => {
    const dead = deadPool();
    const stop = new AbortController();
    let attempts = 0;
    const started = Date.now();
    const err = await withDbRetry(() => (attempts++, dead.query('select 1')), {
      budgetMs: 60_000,
      signal: stop.signal,
      onRetry: (_e, attempt) => attempt === 3 && queueMicrotask(() => stop.abort()),
    }).catch((e: unknown) => e);
    await dead.end();
    expect(err).toMatchObject({ code: 'ECONNREFUSED' });
    expect(attempts).toBe(3);
    expect(Date.now() - started).toBeLessThan(5_000); // not the 60 s budget
  });

  test('an ended pool after the service closed is not retried, though the classifier calls it an outage', async ({ db }) => {
    const pool = createPool(db.url, { max: 1 });
    await pool.end();
    const stop = new AbortController();
    stop.abort(new Error('service closing'));
    let attempts = 0;
    const err = await withDbRetry(() => (attempts++, pool.query('select 1')), { budgetMs: 60_000, signal: stop.signal }).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect((err as Error).message).toMatch(/cannot use a pool after calling end/i);
  });
});
