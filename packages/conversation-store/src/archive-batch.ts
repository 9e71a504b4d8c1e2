/**
 * The migration's fast path (added by apps/migration): many hot snapshots copied in ONE transaction
 * with two statements — one upsert of every header, one insert of every message — instead of two
 * statements and a commit per conversation. Same rows and the same conflict rules as
 * `copyToArchive` (archive.ts); keep the two in step when a column changes.
 *
 * Every conversation is still all-or-nothing (its rows are in the one transaction), and copying a
 * snapshot again inserts nothing twice. One bad row fails the whole statement: callers fall back
 * to `copyToArchive` per conversation to find it.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '@parley/db/client';
import type { HotCopy } from './types.js';

const ROWS_PER_STATEMENT = 5000;

/** Returns how many message rows were new, per conversation id. Ids in `copies` must be distinct. */
export async function copyManyToArchive(db: Db, copies: HotCopy[]): Promise<Map<string, number>> {
  const inserted = new Map<string, number>(copies.map((c) => [c.meta.conversationId, 0]));
  if (copies.length === 0) return inserted;
  const metas = copies.map((c) => c.meta);
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into conversations (id, tenant_id, agent_id, channel, session_id, user_id, title, status,
                                 message_count, token_count, created_at, last_activity_at, closed_at)
      select u.id, u.tenant_id, u.agent_id, u.channel, u.session_id, u.user_id, u.title, u.status, u.message_count,
             u.token_count, to_timestamp(u.created_ms / 1000.0), to_timestamp(u.la_ms / 1000.0), to_timestamp(u.closed_ms / 1000.0)
      from unnest(${arr(metas.map((m) => m.conversationId))}::text[], ${arr(metas.map((m) => m.tenantId))}::text[],
                  ${arr(metas.map((m) => m.agentId))}::text[], ${arr(metas.map((m) => m.channel))}::text[],
                  ${arr(metas.map((m) => m.sessionId))}::text[], ${arr(metas.map((m) => m.userId))}::text[],
                  ${arr(metas.map((m) => m.title))}::text[], ${arr(metas.map((m) => m.status))}::text[],
                  ${arr(metas.map((m) => m.messageCount))}::int[], ${arr(metas.map((m) => m.tokenCount))}::int[],
                  ${arr(metas.map((m) => m.createdAt))}::float8[], ${arr(metas.map((m) => m.lastActivityAt))}::float8[],
                  ${arr(metas.map((m) => m.closedAt))}::float8[])
        as u(id, tenant_id, agent_id, channel, session_id, user_id, title, status, message_count, token_count, created_ms, la_ms, closed_ms)
      on conflict (id) do update set
        agent_id = excluded.agent_id, channel = excluded.channel, session_id = excluded.session_id,
        user_id = excluded.user_id, title = excluded.title, status = excluded.status,
        message_count = greatest(conversations.message_count, excluded.message_count),
        token_count = greatest(conversations.token_count, excluded.token_count),
        last_activity_at = greatest(conversations.last_activity_at, excluded.last_activity_at),
        closed_at = excluded.closed_at
      -- Conversation ids are global; a copy never overwrites another tenant's row.
      where conversations.tenant_id = excluded.tenant_id`);
    const rows = copies.flatMap((c) => c.messages.map((m) => ({ id: c.meta.conversationId, m })));
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
      const res = await tx.execute<{ conversation_id: string }>(sql`
        insert into messages (conversation_id, seq, message_id, role, content, token_count, model, latency_ms,
                              tool_calls, tool_call_id, run_id, usage, metadata, created_at)
        select u.conversation_id, u.seq, u.message_id, u.role, u.content, u.token_count, u.model, u.latency_ms,
               u.tool_calls, u.tool_call_id, u.run_id, u.usage, u.metadata, to_timestamp(u.created_ms / 1000.0)
        from unnest(${arr(chunk.map((r) => r.id))}::text[], ${arr(chunk.map((r) => r.m.seq))}::int[],
                    ${arr(chunk.map((r) => r.m.messageId))}::text[], ${arr(chunk.map((r) => r.m.role))}::text[],
                    ${arr(chunk.map((r) => r.m.content))}::text[], ${arr(chunk.map((r) => r.m.tokenCount))}::int[],
                    ${arr(chunk.map((r) => r.m.model ?? null))}::text[], ${arr(chunk.map((r) => r.m.latencyMs ?? null))}::int[],
                    ${arr(chunk.map((r) => json(r.m.toolCalls)))}::jsonb[], ${arr(chunk.map((r) => r.m.toolCallId ?? null))}::text[],
                    ${arr(chunk.map((r) => r.m.runId ?? null))}::text[], ${arr(chunk.map((r) => json(r.m.usage)))}::jsonb[],
                    ${arr(chunk.map((r) => json(r.m.metadata)))}::jsonb[], ${arr(chunk.map((r) => r.m.createdAt))}::float8[])
          as u(conversation_id, seq, message_id, role, content, token_count, model, latency_ms, tool_calls, tool_call_id,
               run_id, usage, metadata, created_ms)
        on conflict do nothing
        returning conversation_id`);
      for (const r of res.rows) inserted.set(r.conversation_id, (inserted.get(r.conversation_id) ?? 0) + 1);
    }
  });
  return inserted;
}

const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** One parameter that node-postgres serialises as a PostgreSQL array (drizzle would spread a bare array). */
function arr(values: unknown[]): SQL {
  return sql`${sql.param(values)}`;
}
