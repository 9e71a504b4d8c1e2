/**
 * An agent saved before agents had versions (migrations up to 0003: settings in columns) keeps every setting through
 * 0004–0006 and reads back as version 1, with that version in agent_versions, and can be rolled back to.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { createDb, migrateDatabase, migrationsFolder } from '@parley/db';
import { dropTestDatabase, TEST_DATABASE_PREFIX, urlForDatabase, withAdmin } from '@parley/testing';
import { AgentStore } from './agent-store.js';

const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_premig`;
const url = urlForDatabase(name);
afterAll(() => dropTestDatabase(name));

/** Applies the committed migrations up to and including index `last` (0-based), as a deploy of that time did. */
async function migrateUpTo(last: number): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'parley-mig-'));
  try {
    cpSync(migrationsFolder, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: unknown[] };
    writeFileSync(journalPath, JSON.stringify({ ...journal, entries: journal.entries.slice(0, last + 1) }));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await migrate(drizzle(client), { migrationsFolder: folder, migrationsSchema: 'drizzle', migrationsTable: '__drizzle_migrations' });
    } finally {
      await client.end();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

describe('agents from before versions', () => {
  test('an agent row of migration 0003 keeps its settings as version 1', async () => {
    await withAdmin((c) => c.query(`create database "${name}"`));
    await migrateUpTo(3);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await pool.query(`insert into tenants (id, name) values ('t-old', 'Old')`);
      await pool.query(
        `insert into agents (tenant_id, id, name, system_prompt, model, temperature, tools, flow, double_texting, max_run_ms, is_default)
         values ('t-old', 'default', 'Old bot', 'You are the old bot.', 'old-model', 0.55, '{current_time}', 'chat', 'reject', 45000, true),
                ('t-old', 'sales', 'Sales', 'You sell.', 'old-model', 0.1, '{}', 'chat', 'enqueue', 120000, false)`,
      );
      await migrateDatabase(url);

      const store = new AgentStore(createDb(pool), { model: 'new-model', maxRunMs: 60_000, tools: [] });
      const old = await store.get('t-old', 'default');
      expect(old).toMatchObject({
        agentId: 'default',
        version: 1,
        isDefault: true,
        archived: false,
        name: 'Old bot',
        systemPrompt: 'You are the old bot.',
        greeting: '',
        model: 'old-model',
        temperature: 0.55,
        tools: ['current_time'],
        flow: 'chat',
        doubleTexting: 'reject',
        maxRunMs: 45_000,
      });
      const versions = await store.versions('t-old', 'sales');
      expect(versions).toEqual([
        expect.objectContaining({ version: 1, createdBy: null, spec: expect.objectContaining({ systemPrompt: 'You sell.', temperature: 0.1 }) }),
      ]);
      // The tenant keeps its one default: no second default agent is made for it.
      expect((await store.list('t-old')).map((a) => [a.agentId, a.isDefault])).toEqual([
        ['default', true],
        ['sales', false],
      ]);
      await store.update('t-old', { agentId: 'sales', systemPrompt: 'You sell more.' }, 'boss');
      expect(await store.rollback('t-old', 'sales', 1, 'boss')).toMatchObject({ version: 3, systemPrompt: 'You sell.' });
      // Runs recorded before 0006 have no version.
      const { rows } = await pool.query<{ is_nullable: string }>(
        `select is_nullable from information_schema.columns where table_name = 'agent_runs' and column_name = 'agent_version'`,
      );
      expect(rows).toEqual([{ is_nullable: 'YES' }]);
    } finally {
      await pool.end();
    }
  });
});
