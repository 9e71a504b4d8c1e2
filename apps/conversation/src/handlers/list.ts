import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ConversationDeps } from '../domain/ports.js';
import { listConversations } from '../domain/list.js';

export const listHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.list'> =>
  (data, ctx) =>
    listConversations(deps, ctx.action.tenantId, data);
