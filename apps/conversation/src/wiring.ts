/**
 * Builds the conversation service from the kit runService gives it: the database (checked and
 * current), the hot store on the kit's Redis, and the handlers on top.
 */
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { ConversationStore, HotStore } from '@parley/conversation-store';
import { createDb, openDatabase, type Pool } from '@parley/db';
import { tracedStore, type ServiceKit } from '@parley/service-kit';
import type { RedisClient } from '@parley/bus';
import type { ConversationDeps } from './domain/ports.js';
import type { ConversationConfig } from './env.js';
import { conversationHandlers } from './handlers/index.js';

export async function wire(kit: ServiceKit<ConversationConfig>): Promise<Handlers<Catalog, 'conversation'>> {
  const { base, config } = kit;
  const database = await openDatabase(base.databaseUrl, { max: config.db.poolMax, applicationName: base.instance });
  kit.onShutdown('postgres', () => database.close());
  kit.health.addCheck('postgres', () => database.readiness());
  return conversationHandlers(createConversationDeps(kit.redis, database.pool, base.busPrefix, config));
}

/** The domain's parts from connections; the tests' harness builds them the same way. */
export function createConversationDeps(redis: RedisClient, pool: Pool, prefix: string, config: ConversationConfig): ConversationDeps {
  const hot = tracedStore(new HotStore(redis, { prefix, ...config.hot }), { system: 'redis', name: 'hot_conversations' });
  return { store: new ConversationStore(hot, createDb(pool)) };
}
