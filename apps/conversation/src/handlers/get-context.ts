import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { getContext } from '../domain/context.js';
import type { ConversationDeps } from '../domain/ports.js';

export const getContextHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.get_context'> =>
  (data, ctx) =>
    getContext(deps, ctx.action.tenantId, data);
