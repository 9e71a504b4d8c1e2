/**
 * PostgreSQL isolation: each test FILE gets its own database, copied from a migrated template that
 * tests/global-setup.ts builds once per run. Copying a template takes milliseconds; migrating a
 * fresh database per file would not.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { databaseUrl } from './env.js';

const migrationsFolder = fileURLToPath(new URL('../../db/drizzle/', import.meta.url));

/** A hash of the committed SQL migrations: two checkouts with different migrations never share a template. */
function migrationsHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(migrationsFolder)
    .filter((n) => n.endsWith('.sql'))
    .sort()) {
    h.update(f).update(readFileSync(`${migrationsFolder}${f}`));
  }
  return h.digest('hex').slice(0, 12);
}

export const TEMPLATE_PREFIX = 'parley_test_template_';
export const TEMPLATE_DATABASE = `${TEMPLATE_PREFIX}${migrationsHash()}`;
/** Per-file databases are named `parley_t_<epoch seconds>_<random>`, so stale ones can be told by age. */
export const TEST_DATABASE_PREFIX = 'parley_t_';

export function urlForDatabase(name: string, base: string = databaseUrl): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlForDatabase('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {
      /* test cleanup: nothing to undo if closing fails */
    });
  }
}

export async function createTestDatabase(): Promise<string> {
  const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomUUID().slice(0, 8)}`;
  await withAdmin(async (c) => {
    // Copying fails while anyone is connected to the template (55006), or while another run's setup
    // rebuilds it after a migration change (3D000): both last moments.
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database "${name}" template "${TEMPLATE_DATABASE}"`);
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code !== '55006' && code !== '3D000') || attempt >= 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  return name;
}

/** Run on a migrated database, leaves it one migration behind the code: a deploy that skipped `db:migrate`. */
export const FORGET_LAST_MIGRATION = 'delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)';

/** A test database one migration behind the code (drop it with dropTestDatabase). */
export async function createDatabaseBehindMigrations(): Promise<string> {
  const name = await createTestDatabase();
  const client = new pg.Client({ connectionString: urlForDatabase(name) });
  await client.connect();
  try {
    await client.query(FORGET_LAST_MIGRATION);
  } finally {
    await client.end();
  }
  return name;
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`));
}

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
}

/** File-scoped: one database per test file, dropped when the file is done. */
export async function testDatabaseFixture(onCleanup: (fn: () => Promise<void>) => void): Promise<TestDatabase> {
  const name = await createTestDatabase();
  const url = urlForDatabase(name);
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  pool.on('error', () => {});
  onCleanup(async () => {
    await pool.end().catch(() => {
      /* test cleanup: nothing to undo if closing fails */
    });
    await dropTestDatabase(name);
  });
  return { name, url, pool };
}
