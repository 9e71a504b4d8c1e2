import { ActionError, type GetContext, type GetContextReply } from '@parley/contracts';
import type { ConversationRecord, HotMeta, StoredMessage } from '@parley/conversation-store';
import { asActionError } from './store-errors.js';
import type { ConversationDeps } from './ports.js';
import { selectWindow, toContextMessage } from './context-window.js';
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

/** System prompt + the newest turns that fit `maxTokens` (see context-window.ts for the rules). */
export async function getContext(deps: ConversationDeps, tenantId: string, req: GetContext): Promise<GetContextReply> {
  const { meta, messages: tail } = await deps.store.hot.getMetaAndTail(req.conversationId, CONTEXT_TAIL);
  if (meta && meta.tenantId === tenantId) return buildContext(deps, tenantId, req, { record: meta, hot: meta, tail });
  // Not hot (archived), or not this tenant's: find says which. A hot copy it finds now is not the one the tail came from.
  const { hot, record } = await asActionError(deps.store.find(tenantId, req.conversationId));
  return buildContext(deps, tenantId, req, { record, hot, tail: [] });
}

/** The context of a conversation already found for `tenantId` (begin_turn has it from its append). */
export async function buildContext(deps: ConversationDeps, tenantId: string, req: GetContext, from: ContextSource): Promise<GetContextReply> {
  const system = await deps.prompts.get(tenantId, from.record.agentId, req.model);
  const budget = req.maxTokens - system.tokenCount;
  if (budget < 0) {
    throw new ActionError('context_too_small', `the system prompt alone takes ${system.tokenCount} tokens, more than maxTokens ${req.maxTokens}`);
  }
  const source = messagesNewestFirst(deps.store, req.conversationId, from.hot, from.tail, from.record.messageCount);
  const window = await selectWindow(source, budget);
  if (!window.ok) throw new ActionError('context_too_small', window.reason, { details: { maxTokens: req.maxTokens } });
  return {
    conversationId: req.conversationId,
    messages: [{ role: 'system', content: system.content }, ...window.messages.map(toContextMessage)],
    tokenCount: system.tokenCount + window.tokenCount,
    truncated: window.truncated,
  };
}
