import { FORGET_LAST_MIGRATION, pgTest as test } from '@parley/testing';
import { describe, expect } from 'vitest';
import { DatabaseRefusedError, openDatabase } from './open.js';
import { schemaStatus } from './migrate.js';

describe('openDatabase', () => {
  test('opens a migrated database: a pool, a drizzle db, a passing readiness check', async ({ db }) => {
    const database = await openDatabase(db.url, { max: 2 });
    try {
      expect(database.schemaChecked).toBe(true);
      expect((await database.pool.query<{ one: number }>('select 1 as one')).rows[0]?.one).toBe(1);
      expect(await database.readiness()).toBeUndefined();
    } finally {
      await database.close();
    }
  });

  test('refuses an unmigrated database, saying which command to run', async ({ db }) => {
    await db.pool.query(FORGET_LAST_MIGRATION);
    const { total } = await schemaStatus(db.pool);
    const err = await openDatabase(db.url, { max: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseRefusedError);
    expect((err as Error).message).toBe(`database schema is behind (applied ${total - 1} of ${total} migrations); run npm run db:migrate`);
    // Refused with `wait` too: waiting does not make an old schema new.
    await expect(openDatabase(db.url, { max: 2, whenUnreachable: 'wait' })).rejects.toThrow('run npm run db:migrate');
  });

  test('refuses an unreachable database in one line with the URL redacted', async () => {
    const err = await openDatabase('postgres://app:hunter2@127.0.0.1:1/parley', { connectionTimeoutMillis: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseRefusedError);
    expect((err as Error).message).toBe('DATABASE_URL postgres://***@127.0.0.1:1/parley is not reachable (ECONNREFUSED); start PostgreSQL or set DATABASE_URL');
  });

  test('with `wait`, an unreachable database starts unchecked and readiness says why', async () => {
    const database = await openDatabase('postgres://postgres@127.0.0.1:1/parley', { connectionTimeoutMillis: 500, whenUnreachable: 'wait' });
    try {
      expect(database.schemaChecked).toBe(false);
      expect(await database.readiness()).toBe('PostgreSQL is not reachable (ECONNREFUSED)');
      await expect(database.checkSchema()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await database.close();
    }
  });
});
