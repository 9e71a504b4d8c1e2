// The query service's start-up checks: production without a model, a database behind its migrations.
import { fileURLToPath } from 'node:url';
import { createDatabaseBehindMigrations, dropTestDatabase, urlForDatabase } from '@parley/testing/pg';
import { redisUrl, spawnTs } from '@parley/testing/tools';
import { describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('query service start-up', () => {
  it('refuses production mode without a model, listing every problem', async () => {
    const p = spawnTs(main, { PARLEY_MODE: 'production', MODEL_BASE_URL: '', MODEL_NAME: '', EMBEDDING_MODEL: '', REDIS_URL: redisUrl });
    // SIGCONT changes nothing: kill() here only waits for the process to exit on its own.
    expect(await p.kill('SIGCONT')).toBe(1);
    expect(p.output()).toContain('query: invalid configuration (3 problems)');
    expect(p.output()).toContain('MODEL_BASE_URL: is required in production mode');
    expect(p.output()).toContain('EMBEDDING_MODEL: is required in production mode');
  });

  it('refuses a database whose migrations are behind, saying what to run', async () => {
    const name = await createDatabaseBehindMigrations();
    try {
      const p = spawnTs(main, { DATABASE_URL: urlForDatabase(name), REDIS_URL: redisUrl, BUS_PREFIX: `test:qcfg:${name}`, LOG_LEVEL: 'info' });
      await p.waitForOutput('run npm run db:migrate', 20_000);
      expect(await p.kill()).not.toBe(0);
    } finally {
      await dropTestDatabase(name);
    }
  });
});
