import { ActionError, type GetContext, type GetContextReply } from '@parley/contracts';
import type { ConversationRecord } from '@parley/conversation-store';
import { orNotFound, type ConversationDeps } from './deps.js';
import { selectWindow, toContextMessage } from './context-window.js';
import { messagesNewestFirst } from './message-source.js';

/** Hot messages read with the header in one round trip: a 4,000-token budget of ordinary turns (~50 tokens) needs ~85. */
const TAIL = 128;

/** System prompt + the newest turns that fit `maxTokens` (see context-window.ts for the rules). */
export async function getContext(deps: ConversationDeps, tenantId: string, req: GetContext): Promise<GetContextReply> {
  const { meta, messages: tail } = await deps.store.hot.getMetaAndTail(req.conversationId, TAIL);
  let hot = meta;
  let record: ConversationRecord;
  if (meta && meta.tenantId === tenantId) record = meta;
  else ({ hot, record } = await orNotFound(deps.store.find(tenantId, req.conversationId)));
  const system = await deps.prompts.get(tenantId, record.agentId, req.model);
  const budget = req.maxTokens - system.tokenCount;
  if (budget < 0) {
    throw new ActionError('context_too_small', `the system prompt alone takes ${system.tokenCount} tokens, more than maxTokens ${req.maxTokens}`);
  }
  const source = messagesNewestFirst(deps.store, req.conversationId, hot, hot === meta ? tail : [], record.messageCount);
  const window = await selectWindow(source, budget);
  if (!window.ok) throw new ActionError('context_too_small', window.reason, { details: { maxTokens: req.maxTokens } });
  return {
    conversationId: req.conversationId,
    messages: [{ role: 'system', content: system.content }, ...window.messages.map(toContextMessage)],
    tokenCount: system.tokenCount + window.tokenCount,
    truncated: window.truncated,
  };
}
