import { runService } from '@parley/service-kit';
import { openDatabase } from './database.js';
import { createConversationDeps } from './domain/deps.js';
import { env } from './env.js';
import { conversationHandlers } from './handlers/index.js';

await runService({
  name: 'conversation',
  env,
  service: 'conversation',
  worker: { concurrency: 64 },
  handlers: async ({ base, config, redis, health, log, onShutdown }) => {
    const pool = await openDatabase(base.databaseUrl, { max: config.db.poolMax, applicationName: base.instance }, log);
    onShutdown('postgres', () => pool.end());
    health.addCheck('postgres', async () => {
      await pool.query('select 1');
    });
    return conversationHandlers(createConversationDeps(redis, pool, base.busPrefix, config));
  },
});
