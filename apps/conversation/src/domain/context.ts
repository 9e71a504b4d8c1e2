import { ActionError, type GetContext, type GetContextReply } from '@parley/contracts';
import type { ConversationRecord, HotMeta, StoredMessage } from '@parley/conversation-store';
import { asActionError } from './store-errors.js';
import type { ConversationDeps } from './ports.js';
import { isPeopleOnly, modelRoleOf, modelTurns, selectWindow, toContextMessage } from './context-window.js';
import { messagesNewestFirst } from './message-source.js';

/** Hot messages read with the header in one round trip: a 4,000-token budget of ordinary turns (~50 tokens) needs ~85. */
export const CONTEXT_TAIL = 128;

/** Where a context is built from: the header, the hot copy if there is one, and the hot tail already read with it. */
export interface ContextSource {
  record: ConversationRecord;
  hot: HotMeta | null;
  /** The newest hot messages, oldest first; older ones are read on demand. */
  tail: StoredMessage[];
}

/**
 * The newest turns that fit `maxTokens` (see context-window.ts for the rules). Turns only: the system
 * prompt is the caller's (agent-execution puts its agent's prompt first and asks for its budget less the prompt).
 */
export async function getContext(deps: ConversationDeps, tenantId: string, req: GetContext): Promise<GetContextReply> {
  const { meta, messages: tail } = await deps.store.hot.getMetaAndTail(req.conversationId, CONTEXT_TAIL);
  if (meta && meta.tenantId === tenantId) return buildContext(deps, req, { record: meta, hot: meta, tail });
  // Not hot (archived), or not this tenant's: find says which. A hot copy it finds now is not the one the tail came from.
  const { hot, record } = await asActionError(deps.store.find(tenantId, req.conversationId));
  return buildContext(deps, req, { record, hot, tail: [] });
}

/** The context of a conversation already found for its tenant (begin_turn has it from its append). */
export async function buildContext(deps: ConversationDeps, req: GetContext, from: ContextSource): Promise<GetContextReply> {
  const source = modelTurns(messagesNewestFirst(deps.store, req.conversationId, from.hot, from.tail, from.record.messageCount));
  const window = await selectWindow(source, req.maxTokens);
  if (!window.ok) throw new ActionError('context_too_small', window.reason, { details: { maxTokens: req.maxTokens } });
  return {
    conversationId: req.conversationId,
    messages: window.messages.flatMap((m) => (isPeopleOnly(m.role) ? [] : [toContextMessage({ ...m, role: modelRoleOf(m.role) })])),
    tokenCount: window.tokenCount,
    truncated: window.truncated,
  };
}
