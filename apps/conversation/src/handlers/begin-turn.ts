import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { getContext } from '../domain/context.js';
import type { ConversationDeps } from '../domain/deps.js';
import { saveMessage } from '../domain/save.js';

/**
 * save_message then get_context, for a run's first step: the agent waits for both before it can call
 * the model, and one bus round trip instead of two is most of a millisecond off every first token.
 */
export const beginTurnHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.begin_turn'> =>
  async (data, ctx) => {
    const { context, ...message } = data;
    const saved = await saveMessage(deps, ctx.action, message);
    return { saved, context: await getContext(deps, ctx.action.tenantId, { conversationId: data.conversationId, ...context }) };
  };
