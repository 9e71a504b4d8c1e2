import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { asActionError, type ConversationDeps } from '../domain/deps.js';

/** Idempotent: closing a closed conversation changes nothing and answers the same. */
export const sessionClosedHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.session_closed'> =>
  async (data, ctx) => {
    await asActionError(deps.store.close(ctx.action.tenantId, data.conversationId));
    return { conversationId: data.conversationId, status: 'closed' as const };
  };
