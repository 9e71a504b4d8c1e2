import { ActionError, TURN_STATUS_KEY, type SaveMessage, type SaveMessageReply } from '@parley/contracts';
import type { AppendInput, AppendResult } from '@parley/conversation-store';
import { countMessageTokens } from '@parley/llm';
import { asActionError } from './store-errors.js';
import { isPeopleOnly, modelRoleOf } from './context-window.js';
import type { ConversationDeps } from './ports.js';

/** Who saves: the envelope's tenant, session and user (a handler passes its action). */
export interface SaveContext {
  tenantId: string;
  sessionId?: string | undefined;
  userId?: string | undefined;
}

/** Appends one message (see appendInputOf for what is stored). */
export async function saveMessage(deps: ConversationDeps, who: SaveContext, msg: SaveMessage): Promise<SaveMessageReply> {
  const res = await asActionError(deps.store.append(who.tenantId, appendInputOf(who, msg)));
  return savedReplyOf(msg, res);
}

/**
 * What the store appends for a save (the refusals a payload schema cannot express come first). The
 * token count is taken here, once, with the model's tokenizer (chat-format overhead included), so
 * building a context later only adds stored numbers.
 */
export function appendInputOf(who: SaveContext, msg: SaveMessage): AppendInput {
  if (msg.role === 'tool' && !msg.toolCallId) throw new ActionError('invalid_payload', 'toolCallId: required for a message with role tool');
  if ((msg.role === 'status') !== (msg.status !== undefined))
    throw new ActionError('invalid_payload', 'status: required for a message with role status, and only there');
  // A people-only entry never reaches a model, so it costs no tokens of any context window.
  const tokenCount = isPeopleOnly(msg.role)
    ? 0
    : countMessageTokens({ role: modelRoleOf(msg.role), content: msg.content, toolCalls: msg.toolCalls, toolCallId: msg.toolCallId }, msg.model);
  return {
    conversationId: msg.conversationId,
    messageId: msg.messageId,
    role: msg.role,
    content: msg.content,
    tokenCount,
    agentId: msg.agentId,
    channel: msg.channel,
    sessionId: who.sessionId,
    userId: who.userId,
    model: msg.model,
    latencyMs: msg.latencyMs,
    toolCalls: msg.toolCalls,
    toolCallId: msg.toolCallId,
    runId: msg.runId,
    usage: msg.usage,
    // The turn's status rides in metadata, which both stores keep as it is.
    metadata: msg.status ? { ...msg.metadata, [TURN_STATUS_KEY]: msg.status } : msg.metadata,
    fence: msg.fence,
  };
}

export function savedReplyOf(msg: SaveMessage, res: AppendResult): SaveMessageReply {
  return { messageId: msg.messageId, conversationId: msg.conversationId, seq: res.seq, tokenCount: res.tokenCount, created: res.created };
}
