// A service built with runService that consumes the `migration` stream with toy handlers.
import { defineEnv, envBool, envInt, runService } from '../src/index.js';

const env = defineEnv({ FIXTURE_HANDLER_MS: envInt(0), FIXTURE_FAIL_SETUP: envBool(false) }, (e) => ({
  handlerMs: e.FIXTURE_HANDLER_MS,
  failSetup: e.FIXTURE_FAIL_SETUP,
}));
let running = true;
let migrated = 0;

await runService({
  name: 'migration',
  env,
  service: 'migration',
  handlers: ({ config, log }) => {
    if (config.failSetup) throw new Error('database is down');
    return {
      'migration.migrate_conversation': async ({ conversationId }, ctx) => {
        await new Promise((r) => setTimeout(r, config.handlerMs));
        migrated++;
        ctx.log.info({ conversationId }, 'migrated');
        return { conversationId, migrated: true, messages: 3 };
      },
      'migration.start_loop': async () => {
        running = true;
        return { running };
      },
      'migration.stop_loop': async () => {
        running = false;
        log.info('loop paused');
        return { running };
      },
      'migration.get_stats': async () => ({ migratedConversations: migrated, migratedMessages: migrated * 3, failed: 0, pending: 0, oldestDueAgeMs: 0 }),
    };
  },
  start: ({ onShutdown, log }) => onShutdown('fixture loop', () => log.info({ migrated }, 'fixture loop stopped')),
});
