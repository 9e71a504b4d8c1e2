// The conversation service's start-up refusals, in a real process: one fatal line that says what to do.
import { fileURLToPath } from 'node:url';
import { createDatabaseBehindMigrations, dropTestDatabase, urlForDatabase } from '@parley/testing/pg';
import { fatalMessage, redisUrl, spawnTs, uniquePrefix } from '@parley/testing/tools';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('conversation service start-up', () => {
  it('refuses a database whose migrations are behind, saying what to run', async () => {
    const name = await createDatabaseBehindMigrations();
    try {
      const p = spawnTs(main, { DATABASE_URL: urlForDatabase(name), REDIS_URL: redisUrl, BUS_PREFIX: uniquePrefix('conv-start'), LOG_LEVEL: 'info' });
      // SIGCONT changes nothing: kill() here only waits for the process to exit on its own.
      expect(await p.kill('SIGCONT')).toBe(1);
      expect(fatalMessage(p.output())).toMatch(/^failed to start: database schema is behind \(applied \d+ of \d+ migrations\); run npm run db:migrate$/);
    } finally {
      await dropTestDatabase(name);
    }
  });

  it('refuses an unreachable database with the URL redacted', async () => {
    const p = spawnTs(main, {
      DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/parley',
      REDIS_URL: redisUrl,
      BUS_PREFIX: uniquePrefix('conv-start'),
      LOG_LEVEL: 'info',
    });
    expect(await p.kill('SIGCONT')).toBe(1);
    expect(fatalMessage(p.output())).toBe(
      'failed to start: DATABASE_URL postgres://***@127.0.0.1:1/parley is not reachable (ECONNREFUSED); start PostgreSQL or set DATABASE_URL',
    );
    expect(p.output()).not.toContain('hunter2');
  });
});
