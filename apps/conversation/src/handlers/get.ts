import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { asActionError } from '../domain/store-errors.js';
import type { ConversationDeps } from '../domain/ports.js';
import { toSummary } from '../domain/summary.js';

export const getHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.get'> =>
  async (data, ctx) => {
    const { hot, record } = await asActionError(deps.store.find(ctx.action.tenantId, data.conversationId));
    return toSummary(record, hot === null);
  };
