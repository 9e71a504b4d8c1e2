import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ConversationDeps } from '../domain/ports.js';
import { conversationStats } from '../domain/stats.js';

export const statsHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.stats'> =>
  (data, ctx) =>
    conversationStats(deps, ctx.action.tenantId, data);
