import { HANDOFF_MARK_KEY, HandoffMark, TURN_STATUS_KEY, TurnStatus, type GetHistory, type GetHistoryReply, type HistoryMessage } from '@parley/contracts';
import { ConversationNotFoundError, findArchivedBySession, readArchivedMessages, type StoredMessage } from '@parley/conversation-store';
import type { ConversationDeps } from './ports.js';

const NO_CONVERSATION: GetHistoryReply = { conversationId: null, messages: [], hasMore: false };

/**
 * Raw history, paged backwards by seq. Messages above the hot copy's base are read from Redis, the
 * rest from the archive, so a conversation reads the same before, during and after migration.
 * No conversation (unknown, another tenant's, or a session without one) is an ordinary answer with
 * `conversationId: null`, not an error: every new chat asks for the history of an id nobody wrote yet.
 */
export async function getHistory(deps: ConversationDeps, tenantId: string, req: GetHistory): Promise<GetHistoryReply> {
  const conversationId = req.conversationId ?? (await bySession(deps, tenantId, req.sessionId as string));
  if (conversationId === null) return NO_CONVERSATION;
  const found = await deps.store.find(tenantId, conversationId).catch((err: unknown) => {
    if (err instanceof ConversationNotFoundError) return null;
    throw err;
  });
  if (!found) return NO_CONVERSATION;
  const { hot, record } = found;
  const upper = Math.min(record.messageCount, (req.before ?? Number.MAX_SAFE_INTEGER) - 1);
  const lower = Math.max(1, upper - req.limit + 1);
  if (upper < 1) return { conversationId, messages: [], hasMore: false };
  const archivedUpper = hot ? Math.min(upper, hot.base) : upper;
  const fromArchive =
    archivedUpper >= lower ? await readArchivedMessages(deps.store.db, conversationId, { beforeSeq: archivedUpper + 1, limit: archivedUpper - lower + 1 }) : [];
  const fromHot = hot ? await deps.store.hot.readRange(hot, lower, upper) : [];
  return { conversationId, messages: [...fromArchive, ...fromHot].map(toHistoryMessage), hasMore: lower > 1 };
}

async function bySession(deps: ConversationDeps, tenantId: string, sessionId: string): Promise<string | null> {
  const hotId = await deps.store.hot.sessionConversation(tenantId, sessionId);
  if (hotId) return hotId;
  return (await findArchivedBySession(deps.store.db, tenantId, sessionId))?.conversationId ?? null;
}

export function toHistoryMessage(m: StoredMessage): HistoryMessage {
  const out: HistoryMessage = {
    messageId: m.messageId,
    seq: m.seq,
    role: m.role,
    content: m.content,
    tokenCount: m.tokenCount,
    createdAt: new Date(m.createdAt).toISOString(),
  };
  if (m.toolCalls && m.toolCalls.length > 0) out.toolCalls = m.toolCalls;
  if (m.toolCallId !== undefined) out.toolCallId = m.toolCallId;
  if (m.model !== undefined) out.model = m.model;
  if (m.latencyMs !== undefined) out.latencyMs = m.latencyMs;
  if (m.runId !== undefined) out.runId = m.runId;
  if (m.role === 'status') {
    const status = TurnStatus.safeParse(m.metadata?.[TURN_STATUS_KEY]);
    if (status.success) out.status = status.data;
  }
  if (m.role === 'human_agent' || m.role === 'handoff') {
    const mark = HandoffMark.safeParse(m.metadata?.[HANDOFF_MARK_KEY]);
    if (mark.success) out.handoff = mark.data;
  }
  return out;
}
