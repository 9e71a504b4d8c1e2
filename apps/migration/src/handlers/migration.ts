/**
 * The `migration.*` actions: decode (the bus already validated the payload), call one domain
 * function, reply. Loop control and stats act on Redis state shared by every replica, because the
 * bus delivers each action to just one of them.
 */
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { ActionError } from '@parley/service-kit';
import { DatabaseRefusedError, describeDbError, isDatabaseUnavailable } from '@parley/db';
import { NotFoundError, type Migrator } from '../domain/migrator.js';
import type { MigrationCounters } from '../stores/migration-counters.js';

export function migrationHandlers(deps: { migrator: Migrator; counters: MigrationCounters; now?: () => number }): Handlers<Catalog, 'migration'> {
  const now = deps.now ?? Date.now;
  return {
    'migration.migrate_conversation': async ({ conversationId }, ctx) => {
      try {
        const r = await deps.migrator.migrate(conversationId, { tenantId: ctx.action.tenantId });
        ctx.log.info({ conversationId, migrated: r.migrated, messages: r.messages, reason: r.migrated ? undefined : r.reason }, 'migrate_conversation');
        return r.migrated
          ? { conversationId, migrated: true, messages: r.messages }
          : { conversationId, migrated: false, messages: r.messages, reason: r.reason };
      } catch (err) {
        if (err instanceof NotFoundError) throw new ActionError('not_found', err.message);
        if (isDatabaseUnavailable(err) || err instanceof DatabaseRefusedError) {
          ctx.log.warn({ conversationId, reason: describeDbError(err) }, 'migrate_conversation: PostgreSQL unavailable; the conversation stays hot');
          throw new ActionError('unavailable', 'PostgreSQL is not reachable; the conversation stays in Redis, retry later', { retryable: true, cause: err });
        }
        throw err;
      }
    },
    'migration.start_loop': async (_data, ctx) => {
      await deps.counters.setPaused(false);
      ctx.log.info('migration loop resumed on every replica');
      return { running: true };
    },
    'migration.stop_loop': async (_data, ctx) => {
      await deps.counters.setPaused(true);
      ctx.log.info('migration loop paused on every replica');
      return { running: false };
    },
    'migration.get_stats': async () => deps.counters.read(now()),
  };
}
