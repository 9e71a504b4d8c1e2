import { createPool } from '@parley/db/client';
import { describe, expect, test } from 'vitest';
import { DatabaseGate, describeDbError, isDatabaseUnavailable } from './database.js';

describe('outage or problem of one conversation', () => {
  test('network errors, connection-class SQLSTATEs and pg-pool timeouts are outages, also when wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(isDatabaseUnavailable(new Error('Failed query: insert …', { cause: refused }))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([refused]))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('database "x" does not exist'), { code: '3D000' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  test('data errors belong to the conversation, not the database', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable('boom')).toBe(false);
  });

  test('describes an outage by its errno, anything else by its innermost message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeDbError(new Error('Failed query', { cause: refused }))).toBe('ECONNREFUSED');
    expect(describeDbError(new Error('outer', { cause: new Error('relation "messages" does not exist') }))).toBe('relation "messages" does not exist');
  });
});

describe('DatabaseGate', () => {
  test('readiness names the cause when PostgreSQL is unreachable, and schema checks report the outage as such', async () => {
    const pool = createPool('postgres://postgres@127.0.0.1:1/parley', { connectionTimeoutMillis: 500 });
    try {
      const gate = new DatabaseGate(pool);
      expect(await gate.readiness()).toMatch(/^PostgreSQL is not reachable \(ECONNREFUSED\)/);
      const err = await gate.ensureSchema().catch((e: unknown) => e);
      expect(isDatabaseUnavailable(err)).toBe(true);
    } finally {
      await pool.end();
    }
  });
});
