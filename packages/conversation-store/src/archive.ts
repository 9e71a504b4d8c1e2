/**
 * The PostgreSQL side: reads of archived conversations (history fallback, list merge, re-opening)
 * and the copy that migration commits.
 */
import { and, asc, desc, eq, getTableColumns, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '@parley/db/client';
import { conversations, messages } from '@parley/db/schema';
import type { ConversationRecord, HotCopy, StoredMessage } from './types.js';

type ConversationRow = typeof conversations.$inferSelect;
type MessageRow = Omit<typeof messages.$inferSelect, 'search'>;

// Every column but the search vector, which only the database reads.
const { search: _search, ...messageColumns } = getTableColumns(messages);

export function toRecord(r: ConversationRow): ConversationRecord {
  return {
    conversationId: r.id,
    tenantId: r.tenantId,
    agentId: r.agentId,
    channel: r.channel,
    sessionId: r.sessionId,
    userId: r.userId,
    title: r.title,
    status: r.status,
    messageCount: r.messageCount,
    tokenCount: r.tokenCount,
    createdAt: r.createdAt.getTime(),
    lastActivityAt: r.lastActivityAt.getTime(),
    closedAt: r.closedAt ? r.closedAt.getTime() : null,
  };
}

function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    seq: r.seq,
    messageId: r.messageId,
    role: r.role,
    content: r.content,
    tokenCount: r.tokenCount,
    createdAt: r.createdAt.getTime(),
  };
  if (r.model !== null) m.model = r.model;
  if (r.latencyMs !== null) m.latencyMs = r.latencyMs;
  if (r.toolCalls !== null) m.toolCalls = r.toolCalls;
  if (r.toolCallId !== null) m.toolCallId = r.toolCallId;
  if (r.runId !== null) m.runId = r.runId;
  if (r.usage !== null) m.usage = r.usage;
  if (r.metadata !== null) m.metadata = r.metadata;
  return m;
}

export async function getArchivedConversation(db: Db, conversationId: string): Promise<ConversationRecord | null> {
  const rows = await db.select().from(conversations).where(eq(conversations.id, conversationId)).limit(1);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The newest archived conversation of a session. */
export async function findArchivedBySession(db: Db, tenantId: string, sessionId: string): Promise<ConversationRecord | null> {
  const rows = await db
    .select()
    .from(conversations)
    .where(and(eq(conversations.tenantId, tenantId), eq(conversations.sessionId, sessionId)))
    .orderBy(desc(conversations.lastActivityAt))
    .limit(1);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** Archived messages with seq < beforeSeq (all when absent), the newest `limit`, returned oldest first. */
export async function readArchivedMessages(db: Db, conversationId: string, opts: { beforeSeq?: number; limit: number }): Promise<StoredMessage[]> {
  const where =
    opts.beforeSeq === undefined
      ? eq(messages.conversationId, conversationId)
      : and(eq(messages.conversationId, conversationId), lt(messages.seq, opts.beforeSeq));
  const rows = await db.select(messageColumns).from(messages).where(where).orderBy(desc(messages.seq)).limit(opts.limit);
  return rows.reverse().map(toMessage);
}

export async function readAllArchivedMessages(db: Db, conversationId: string): Promise<StoredMessage[]> {
  const rows = await db.select(messageColumns).from(messages).where(eq(messages.conversationId, conversationId)).orderBy(asc(messages.seq));
  return rows.map(toMessage);
}

/** Ids of every archived message: a re-opened hot copy must still recognise their redelivery. */
export async function archivedMessageIds(db: Db, conversationId: string): Promise<Array<{ messageId: string; seq: number; tokenCount: number }>> {
  return db
    .select({ messageId: messages.messageId, seq: messages.seq, tokenCount: messages.tokenCount })
    .from(messages)
    .where(eq(messages.conversationId, conversationId));
}

export interface ArchiveListFilter {
  status?: 'open' | 'closed';
  agentId?: string;
  channel?: string;
  /** Only this user's web and REST conversations (a channel's, owned by a contact, never). */
  userId?: string;
  /** Keyset: rows strictly after (lastActivityAt, conversationId) in newest-first order. */
  after?: { lastActivityAt: number; conversationId: string };
  limit: number;
}

/** A tenant's archived conversations, newest activity first, keyset-paged on (last_activity_at, id). */
export async function listArchived(db: Db, tenantId: string, f: ArchiveListFilter): Promise<ConversationRecord[]> {
  const conds: SQL[] = [eq(conversations.tenantId, tenantId)];
  if (f.status) conds.push(eq(conversations.status, f.status));
  if (f.agentId) conds.push(eq(conversations.agentId, f.agentId));
  if (f.channel) conds.push(sql`${conversations.channel} = ${f.channel}`);
  if (f.userId) conds.push(eq(conversations.userId, f.userId), sql`position(':' in ${conversations.id}) = 0`);
  if (f.after) {
    const at = new Date(f.after.lastActivityAt);
    const cond = or(lt(conversations.lastActivityAt, at), and(eq(conversations.lastActivityAt, at), lt(conversations.id, f.after.conversationId)));
    if (cond) conds.push(cond);
  }
  const rows = await db
    .select()
    .from(conversations)
    .where(and(...conds))
    .orderBy(desc(conversations.lastActivityAt), desc(conversations.id))
    .limit(f.limit);
  return rows.map(toRecord);
}

/** Closes an archived conversation that is not hot (session_closed after migration of an idle one). */
export async function closeArchived(db: Db, tenantId: string, conversationId: string, now: number): Promise<boolean> {
  const res = await db
    .update(conversations)
    .set({ status: 'closed', closedAt: sql`coalesce(${conversations.closedAt}, ${new Date(now)})` })
    .where(and(eq(conversations.id, conversationId), eq(conversations.tenantId, tenantId)))
    .returning({ id: conversations.id });
  return res.length > 0;
}

/**
 * Copies a hot snapshot into the archive in ONE transaction: the conversation is upserted (the hot
 * header is the newer truth; it already includes archived counts when it was re-opened), messages
 * are inserted with ON CONFLICT DO NOTHING, so copying the same snapshot twice (a crash between
 * commit and delete) changes nothing. Returns how many message rows were new.
 */
export async function copyToArchive(db: Db, copy: HotCopy): Promise<{ inserted: number }> {
  const m = copy.meta;
  return db.transaction(async (tx) => {
    await tx
      .insert(conversations)
      .values({
        id: m.conversationId,
        tenantId: m.tenantId,
        agentId: m.agentId,
        channel: m.channel,
        sessionId: m.sessionId,
        userId: m.userId,
        title: m.title,
        status: m.status,
        messageCount: m.messageCount,
        tokenCount: m.tokenCount,
        createdAt: new Date(m.createdAt),
        lastActivityAt: new Date(m.lastActivityAt),
        closedAt: m.closedAt === null ? null : new Date(m.closedAt),
      })
      .onConflictDoUpdate({
        target: conversations.id,
        set: {
          agentId: sql`excluded.agent_id`,
          channel: sql`excluded.channel`,
          sessionId: sql`excluded.session_id`,
          userId: sql`excluded.user_id`,
          title: sql`excluded.title`,
          status: sql`excluded.status`,
          messageCount: sql`greatest(${conversations.messageCount}, excluded.message_count)`,
          tokenCount: sql`greatest(${conversations.tokenCount}, excluded.token_count)`,
          lastActivityAt: sql`greatest(${conversations.lastActivityAt}, excluded.last_activity_at)`,
          closedAt: sql`excluded.closed_at`,
        },
        // Conversation ids are global; a copy never overwrites another tenant's row.
        setWhere: sql`${conversations.tenantId} = excluded.tenant_id`,
      });
    let inserted = 0;
    // One statement per chunk with array parameters: fast, and far below pg's 65,535-parameter cap.
    for (let i = 0; i < copy.messages.length; i += 5000) {
      const chunk = copy.messages.slice(i, i + 5000);
      const res = await tx.execute(sql`
        insert into messages (conversation_id, seq, message_id, role, content, token_count, model, latency_ms,
                              tool_calls, tool_call_id, run_id, usage, metadata, created_at)
        select ${m.conversationId}, u.seq, u.message_id, u.role, u.content, u.token_count, u.model, u.latency_ms,
               u.tool_calls, u.tool_call_id, u.run_id, u.usage, u.metadata, to_timestamp(u.created_ms / 1000.0)
        from unnest(${pgArray(chunk.map((x) => x.seq))}::int[], ${pgArray(chunk.map((x) => x.messageId))}::text[],
                    ${pgArray(chunk.map((x) => x.role))}::text[], ${pgArray(chunk.map((x) => x.content))}::text[],
                    ${pgArray(chunk.map((x) => x.tokenCount))}::int[], ${pgArray(chunk.map((x) => x.model ?? null))}::text[],
                    ${pgArray(chunk.map((x) => x.latencyMs ?? null))}::int[], ${pgArray(chunk.map((x) => json(x.toolCalls)))}::jsonb[],
                    ${pgArray(chunk.map((x) => x.toolCallId ?? null))}::text[], ${pgArray(chunk.map((x) => x.runId ?? null))}::text[],
                    ${pgArray(chunk.map((x) => json(x.usage)))}::jsonb[], ${pgArray(chunk.map((x) => json(x.metadata)))}::jsonb[],
                    ${pgArray(chunk.map((x) => x.createdAt))}::float8[])
          as u(seq, message_id, role, content, token_count, model, latency_ms, tool_calls, tool_call_id, run_id, usage, metadata, created_ms)
        on conflict do nothing`);
      inserted += res.rowCount ?? 0;
    }
    return { inserted };
  });
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/**
 * drizzle expands a JS array parameter into a list of parameters; wrapping it in an object makes
 * it ONE parameter that node-postgres serialises as a PostgreSQL array literal.
 */
function pgArray(values: unknown[]): SQL {
  return sql`${sql.param(values)}`;
}
