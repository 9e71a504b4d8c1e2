import type { ConversationSummary } from '@parley/contracts';
import type { ConversationRecord } from '@parley/conversation-store';

export function toSummary(r: ConversationRecord, archived: boolean): ConversationSummary {
  return {
    conversationId: r.conversationId,
    agentId: r.agentId,
    channel: r.channel,
    sessionId: r.sessionId,
    userId: r.userId,
    title: r.title,
    status: r.status,
    archived,
    messageCount: r.messageCount,
    tokenCount: r.tokenCount,
    createdAt: new Date(r.createdAt).toISOString(),
    lastActivityAt: new Date(r.lastActivityAt).toISOString(),
  };
}
