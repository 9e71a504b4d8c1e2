import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import { ConversationNotFoundError } from '@parley/conversation-store';
import { asActionError } from '../domain/store-errors.js';
import type { ConversationDeps } from '../domain/ports.js';
import { toSummary } from '../domain/summary.js';

/**
 * One conversation of the caller's tenant. Conversation ids are global, so `not_found` says in its
 * details when the id is another tenant's: the gateway then refuses to let a client create it
 * (it answers `not_found` either way, so no client learns that the id exists).
 */
export const getHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.get'> =>
  async (data, ctx) => {
    const found = deps.store.find(ctx.action.tenantId, data.conversationId).catch((err: unknown) => {
      if (err instanceof ConversationNotFoundError && err.otherTenant) throw new ActionError('not_found', err.message, { details: { otherTenant: true } });
      throw err;
    });
    const { hot, record } = await asActionError(found);
    return toSummary(record, hot === null);
  };
