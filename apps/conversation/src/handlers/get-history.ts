import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ConversationDeps } from '../domain/ports.js';
import { getHistory } from '../domain/history.js';

export const getHistoryHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.get_history'> =>
  (data, ctx) =>
    getHistory(deps, ctx.action.tenantId, data);
