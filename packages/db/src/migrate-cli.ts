/**
 * `npm run db:migrate`: creates the database if missing and applies the committed migrations.
 * Reads DATABASE_URL directly: this is a one-shot tool, not a service with an env.ts.
 */
import { defaultDatabaseUrl } from './client.js';
import { safeUrl } from '@parley/service-kit/safe-url';
import { ensureDatabase, migrateDatabase } from './migrate.js';

const url = process.env.DATABASE_URL ?? defaultDatabaseUrl;
try {
  const created = await ensureDatabase(url);
  const { applied, total } = await migrateDatabase(url);
  console.log(`${safeUrl(url)}: ${created ? 'created database, ' : ''}applied ${applied} migration(s), ${total} in total`);
} catch (err) {
  const e = err as Error & { code?: string };
  console.error(`db:migrate failed for ${safeUrl(url)}: ${e.message}${e.code ? ` (${e.code})` : ''}; is PostgreSQL running and DATABASE_URL right?`);
  process.exit(1);
}
