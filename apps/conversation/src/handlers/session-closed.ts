import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { asActionError } from '../domain/store-errors.js';
import type { ConversationDeps } from '../domain/ports.js';

/** Idempotent: closing a closed conversation changes nothing and answers the same. */
export const sessionClosedHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.session_closed'> =>
  async (data, ctx) => {
    await asActionError(deps.store.close(ctx.action.tenantId, data.conversationId));
    return { conversationId: data.conversationId, status: 'closed' as const };
  };
