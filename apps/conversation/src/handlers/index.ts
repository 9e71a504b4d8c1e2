import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ConversationDeps } from '../domain/ports.js';
import { beginTurnHandler } from './begin-turn.js';
import { getContextHandler } from './get-context.js';
import { getHistoryHandler } from './get-history.js';
import { getHandler } from './get.js';
import { listHandler } from './list.js';
import { saveMessageHandler } from './save-message.js';
import { sessionClosedHandler } from './session-closed.js';
import { statsHandler } from './stats.js';

/** Every conversation.* action; the tenant of each comes from the envelope, never from the payload. */
export function conversationHandlers(deps: ConversationDeps): Handlers<Catalog, 'conversation'> {
  return {
    'conversation.save_message': saveMessageHandler(deps),
    'conversation.get_context': getContextHandler(deps),
    'conversation.begin_turn': beginTurnHandler(deps),
    'conversation.get_history': getHistoryHandler(deps),
    'conversation.session_closed': sessionClosedHandler(deps),
    'conversation.list': listHandler(deps),
    'conversation.get': getHandler(deps),
    'conversation.stats': statsHandler(deps),
  };
}
