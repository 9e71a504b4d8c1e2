// The inbox store on a database opened with `whenUnreachable: 'wait'`: the gateway starts without PostgreSQL,
// and a database that comes back behind its migrations is never written to.
import { randomUUID } from 'node:crypto';
import { DatabaseRefusedError, openDatabase } from '@parley/db';
import { OutboundGuard, createLogger } from '@parley/service-kit';
import { FORGET_LAST_MIGRATION, TEST_DATABASE_PREFIX, createTestDatabase, dropTestDatabase, urlForDatabase, withAdmin } from '@parley/testing/pg';
import { describe, expect, test } from 'vitest';
import { InboxSecretCodec } from './inbox-secrets.js';
import { InboxStore } from './inbox-store.js';

const log = createLogger({ service: 'gateway', instance: 'test', level: 'silent' });

describe('InboxStore', () => {
  test('PostgreSQL unreachable at start, back behind its migrations: a save is refused with what to run, nothing is written', async () => {
    const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomUUID().slice(0, 8)}`;
    // The database does not exist yet: an outage to wait out, not a refusal.
    const database = await openDatabase(urlForDatabase(name), { max: 2, whenUnreachable: 'wait' });
    expect(database.schemaChecked).toBe(false);
    const store = new InboxStore(database, null, new InboxSecretCodec(null), log, new OutboundGuard({ allowHosts: ['127.0.0.1'], allowCidrs: [] }), 60_000);
    try {
      await store.start();
      // It comes back, one migration behind the code.
      const made = await createTestDatabase();
      await withAdmin((c) => c.query(`alter database "${made}" rename to "${name}"`));
      await database.pool.query(FORGET_LAST_MIGRATION);

      const saved = store.put('t1', { accountId: 1, inboxId: 1, baseUrl: 'http://127.0.0.1:9', apiToken: 'token-1234' });
      await expect(saved).rejects.toBeInstanceOf(DatabaseRefusedError);
      await expect(saved).rejects.toThrow(/^database schema is behind \(applied \d+ of \d+ migrations\); run npm run db:migrate$/);
      const { rows } = await database.pool.query<{ n: number }>('select count(*)::int as n from chatwoot_inboxes');
      expect(rows[0]?.n).toBe(0);
      expect(store.list('t1')).toEqual([]);
    } finally {
      await store.close();
      await dropTestDatabase(name);
    }
  });
});
