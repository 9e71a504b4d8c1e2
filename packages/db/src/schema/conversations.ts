import { sql, type SQL } from 'drizzle-orm';
import { customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

export type ConversationStatus = 'open' | 'closed';

// drizzle has no tsvector type.
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * The text-search configurations a message is indexed and searched in. Short chat turns are too
 * small for language detection (the query service's function-word count needs sentences), so every
 * message is indexed in both languages the platform serves, like the knowledge search tries both.
 */
export const MESSAGE_SEARCH_LANGUAGES = ['english', 'spanish'] as const;
export type Channel = 'web' | 'chatwoot' | 'api';
export interface StoredToolCall {
  id: string;
  name: string;
  arguments: string;
}
export interface StoredUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/**
 * The archive of conversations. Ids come from clients (the gateway, Chatwoot mapping), so they are
 * text. No foreign key to tenants or agents: a conversation outlives agent edits and is written by
 * the migration service, which must never fail a copy because a tenant row is missing.
 */
export const conversations = pgTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    agentId: text('agent_id'),
    channel: text('channel').$type<Channel>(),
    sessionId: text('session_id'),
    userId: text('user_id'),
    title: text('title'),
    status: text('status').$type<ConversationStatus>().notNull().default('open'),
    messageCount: integer('message_count').notNull().default(0),
    tokenCount: integer('token_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    // The CRM list: a tenant's conversations, newest activity first, keyset-paged on (last_activity_at, id).
    index('conversations_tenant_activity_idx').on(t.tenantId, t.lastActivityAt.desc(), t.id.desc()),
    // A user's own conversations, newest first (GET /me/conversations, and the one a socket resumes).
    index('conversations_tenant_user_activity_idx').on(t.tenantId, t.userId, t.lastActivityAt.desc(), t.id.desc()),
    index('conversations_tenant_session_idx').on(t.tenantId, t.sessionId),
    index('conversations_tenant_created_idx').on(t.tenantId, t.createdAt),
  ],
);

export const messages = pgTable(
  'messages',
  {
    conversationId: text('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    messageId: text('message_id').notNull(),
    role: text('role').$type<'system' | 'user' | 'assistant' | 'tool' | 'status' | 'human_agent' | 'handoff'>().notNull(),
    content: text('content').notNull(),
    tokenCount: integer('token_count').notNull(),
    model: text('model'),
    latencyMs: integer('latency_ms'),
    toolCalls: jsonb('tool_calls').$type<StoredToolCall[]>(),
    toolCallId: text('tool_call_id'),
    runId: text('run_id'),
    usage: jsonb('usage').$type<StoredUsage>(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    // What people wrote and read (user and assistant turns); tool payloads and status entries are not searched.
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql`case when ${messages.role} in ('user', 'assistant') then to_tsvector('english'::regconfig, ${messages.content}) || to_tsvector('spanish'::regconfig, ${messages.content}) else ''::tsvector end`,
      ),
  },
  (t) => [
    index('messages_search_idx').using('gin', t.search),
    // (conversation_id, seq) is the order of a conversation and what makes a re-copy idempotent.
    primaryKey({ columns: [t.conversationId, t.seq] }),
    unique('messages_message_id_key').on(t.messageId),
    index('messages_created_idx').on(t.createdAt),
  ],
);
