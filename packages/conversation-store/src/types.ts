import type { Channel, MessageRole, ToolCall, Usage } from '@parley/contracts';

export type ConversationStatus = 'open' | 'closed';

/** One message as stored, hot or archived. Times are epoch ms. */
export interface StoredMessage {
  seq: number;
  messageId: string;
  role: MessageRole;
  content: string;
  tokenCount: number;
  model?: string;
  latencyMs?: number;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  runId?: string;
  usage?: Usage;
  metadata?: Record<string, unknown>;
  createdAt: number;
}

/** A conversation's header, hot or archived. */
export interface ConversationRecord {
  conversationId: string;
  tenantId: string;
  agentId: string | null;
  channel: Channel | null;
  sessionId: string | null;
  userId: string | null;
  title: string | null;
  status: ConversationStatus;
  /** Also the highest seq: messages are never deleted, so count and last seq agree. */
  messageCount: number;
  tokenCount: number;
  createdAt: number;
  lastActivityAt: number;
  closedAt: number | null;
}

/** The hot header adds what only Redis knows. */
export interface HotMeta extends ConversationRecord {
  /** Messages with seq ≤ base live only in the archive (the conversation was re-opened after migration). */
  base: number;
  /** Score in the migration-due set. */
  dueAt: number;
}

/** What a save brings besides the tenant. */
export interface AppendInput {
  conversationId: string;
  messageId: string;
  role: MessageRole;
  content: string;
  tokenCount: number;
  agentId?: string;
  channel?: Channel;
  sessionId?: string;
  userId?: string;
  model?: string;
  latencyMs?: number;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  runId?: string;
  usage?: Usage;
  metadata?: Record<string, unknown>;
  /** Store only while the conversation's run lock holds exactly this value (see SaveMessage.fence). */
  fence?: string;
}

export interface AppendResult {
  seq: number;
  tokenCount: number;
  /** false: this message id was stored before (retry or redelivery); nothing changed. */
  created: boolean;
  /** true when this save created the hot copy (a new conversation, or one re-opened from the archive). */
  createdConversation: boolean;
}

/** A hot conversation's header and its newest hot messages (oldest first), read in one step. */
export interface HotTail {
  meta: HotMeta;
  messages: StoredMessage[];
}

/** A full, consistent snapshot of a hot conversation: what migration copies. */
export interface HotCopy {
  meta: HotMeta;
  /** seq base+1 … messageCount, oldest first. */
  messages: StoredMessage[];
}
