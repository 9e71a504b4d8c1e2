import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { beginTurn } from '../domain/begin-turn.js';
import type { ConversationDeps } from '../domain/ports.js';

/**
 * save_message then get_context, for a run's first step: the agent waits for both before it can call
 * the model, and one bus round trip instead of two is most of a millisecond off every first token.
 */
export const beginTurnHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.begin_turn'> =>
  (data, ctx) =>
    beginTurn(deps, ctx.action, data);
