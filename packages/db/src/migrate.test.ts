import { describe, expect } from 'vitest';
import { FORGET_LAST_MIGRATION, pgTest as test } from '@parley/testing';
import { assertSchemaCurrent, schemaStatus } from './migrate.js';

describe('schema check', () => {
  test('a database copied from the migrated template is current', async ({ db }) => {
    await expect(assertSchemaCurrent(db.pool)).resolves.toBeUndefined();
    const { applied, total } = await schemaStatus(db.pool);
    expect(applied).toBe(total);
    expect(total).toBeGreaterThan(0);
  });

  test('a database behind its migrations is refused with the command to run', async ({ db }) => {
    await db.pool.query(FORGET_LAST_MIGRATION);
    const { total } = await schemaStatus(db.pool);
    await expect(assertSchemaCurrent(db.pool)).rejects.toThrow(
      `database schema is behind (applied ${total - 1} of ${total} migrations); run npm run db:migrate`,
    );
  });
});
