// agent-execution's start-up refusals, in a real process: every config problem in one run, and a
// database behind its migrations refused in one fatal line that says what to do.
import { fileURLToPath } from 'node:url';
import { createDatabaseBehindMigrations, dropTestDatabase, urlForDatabase } from '@parley/testing/pg';
import { fatalMessage, redisUrl, spawnTs, uniquePrefix } from '@parley/testing/tools';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('agent-execution start-up', () => {
  it('refuses production mode without a model, listing the model problems with every other one', async () => {
    const p = spawnTs(main, { PARLEY_MODE: 'production', MODEL_BASE_URL: '', MODEL_NAME: '', RUN_CONCURRENCY: '0', REDIS_URL: redisUrl });
    // SIGCONT changes nothing: kill() here only waits for the process to exit on its own.
    expect(await p.kill('SIGCONT')).toBe(1);
    expect(p.output()).toContain('agent-execution: invalid configuration (3 problems)');
    expect(p.output()).toContain('RUN_CONCURRENCY: ');
    expect(p.output()).toContain('MODEL_BASE_URL: is required in production mode');
    expect(p.output()).toContain('MODEL_NAME: is required in production mode');
  });

  it('refuses a database whose migrations are behind, saying what to run', async () => {
    const name = await createDatabaseBehindMigrations();
    try {
      const p = spawnTs(main, { DATABASE_URL: urlForDatabase(name), REDIS_URL: redisUrl, BUS_PREFIX: uniquePrefix('agent-start'), LOG_LEVEL: 'info' });
      expect(await p.kill('SIGCONT')).toBe(1);
      expect(fatalMessage(p.output())).toMatch(/^failed to start: database schema is behind \(applied \d+ of \d+ migrations\); run npm run db:migrate$/);
      // Refused before anything else started: no dev model server for a service that will not run.
      expect(p.output()).not.toContain('NO MODEL CONFIGURED');
    } finally {
      await dropTestDatabase(name);
    }
  });

  it('refuses an unreachable database with the URL redacted', async () => {
    const p = spawnTs(main, {
      DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/parley',
      REDIS_URL: redisUrl,
      BUS_PREFIX: uniquePrefix('agent-start'),
      LOG_LEVEL: 'info',
    });
    expect(await p.kill('SIGCONT')).toBe(1);
    expect(fatalMessage(p.output())).toBe(
      'failed to start: DATABASE_URL postgres://***@127.0.0.1:1/parley is not reachable (ECONNREFUSED); start PostgreSQL or set DATABASE_URL',
    );
    expect(p.output()).not.toContain('hunter2');
  });
});
