import type { BeginTurn, BeginTurnReply } from '@parley/contracts';
import { buildContext, CONTEXT_TAIL } from './context.js';
import { asActionError } from './store-errors.js';
import type { ConversationDeps } from './ports.js';
import { appendInputOf, savedReplyOf, type SaveContext } from './save.js';

/**
 * save_message then get_context, in two sequential Redis round trips where the two calls took
 * three: the append script also answers the header and tail it just wrote to, and the context is
 * built from them while the tenant indexes are written. The reply still waits for the indexes
 * (see ConversationStore.appendAndRead); a redelivery is a duplicate save that rebuilds the same
 * context from the same snapshot.
 */
export async function beginTurn(deps: ConversationDeps, who: SaveContext, turn: BeginTurn): Promise<BeginTurnReply> {
  const { context, ...msg } = turn;
  const req = { conversationId: msg.conversationId, ...context };
  return asActionError(
    deps.store.appendAndRead(who.tenantId, appendInputOf(who, msg), CONTEXT_TAIL, async (saved, { meta, messages }) => ({
      saved: savedReplyOf(msg, saved),
      context: await buildContext(deps, req, { record: meta, hot: meta, tail: messages }),
    })),
  );
}
