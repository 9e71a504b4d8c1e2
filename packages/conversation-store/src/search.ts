/**
 * Full-text search over messages, for the conversation list's `q`. One matcher for both stores:
 * archived messages are found through the GIN index on `messages.search`, hot ones (still in Redis)
 * are sent to PostgreSQL as arrays and matched with the very same expression, so a word found in the
 * archive is found a second after it is said too, with the same stemming and the same snippet.
 *
 * The search text only ever reaches PostgreSQL as a bound parameter of websearch_to_tsquery, which
 * accepts any string (quotes, `or`, `-word`, stray operators) without a syntax error.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '@parley/db/client';
import { conversations } from '@parley/db/schema';
import type { ArchiveListFilter } from './archive.js';
import { toRecord } from './archive.js';
import type { ConversationRecord, StoredMessage } from './types.js';

/** The newest matching message of one conversation, with its excerpt split into plain and matched parts. */
export interface MessageMatch {
  conversationId: string;
  messageId: string;
  seq: number;
  role: StoredMessage['role'];
  createdAt: number;
  snippet: Array<{ text: string; hit: boolean }>;
}

/** Roles whose text people wrote or read; the generated column indexes exactly these. */
const SEARCHED_ROLES = ['user', 'assistant'] as const;

// Must stay the expression of the generated column `messages.search` (packages/db schema), so hot
// and archived messages match alike.
const vectorOf = (content: SQL) => sql`(to_tsvector('english'::regconfig, ${content}) || to_tsvector('spanish'::regconfig, ${content}))`;

/**
 * Markers for ts_headline that no message can contain by chance: fresh random hex per search, so a
 * message that spells out a marker cannot forge a highlight (and the snippet is never markup).
 */
function markers(): { start: string; stop: string; options: string } {
  const nonce = randomBytes(8).toString('hex');
  const start = `S${nonce}S`;
  const stop = `E${nonce}E`;
  return { start, stop, options: `StartSel=${start}, StopSel=${stop}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "` };
}

function splitSnippet(raw: string, m: { start: string; stop: string }): Array<{ text: string; hit: boolean }> {
  const parts: Array<{ text: string; hit: boolean }> = [];
  let rest = raw;
  while (rest.length > 0) {
    const at = rest.indexOf(m.start);
    if (at < 0) break;
    if (at > 0) parts.push({ text: rest.slice(0, at), hit: false });
    const end = rest.indexOf(m.stop, at + m.start.length);
    const stopAt = end < 0 ? rest.length : end;
    parts.push({ text: rest.slice(at + m.start.length, stopAt), hit: true });
    rest = end < 0 ? '' : rest.slice(end + m.stop.length);
  }
  if (rest.length > 0) parts.push({ text: rest, hit: false });
  // Adjacent matched words are one highlight.
  return parts.reduce<Array<{ text: string; hit: boolean }>>((out, p) => {
    const last = out[out.length - 1];
    if (last && last.hit === p.hit) last.text += p.text;
    else out.push({ ...p });
    return out;
  }, []);
}

interface MatchRow extends Record<string, unknown> {
  conversation_id: string;
  message_id: string;
  seq: number;
  role: StoredMessage['role'];
  created_ms: string | number;
  headline: string;
}

/**
 * The excerpt in the language that matched: English stemming first, Spanish when only the Spanish
 * reading of the words matched.
 */
const headline = (content: SQL, options: string) => sql`case when to_tsvector('english'::regconfig, ${content}) @@ qe
    then ts_headline('english'::regconfig, ${content}, qe, ${options})
    else ts_headline('spanish'::regconfig, ${content}, qs, ${options}) end`;

const queries = (q: string) =>
  sql`q as (select websearch_to_tsquery('english'::regconfig, ${q}) as qe, websearch_to_tsquery('spanish'::regconfig, ${q}) as qs)`;

function toMatch(r: MatchRow, m: { start: string; stop: string }): MessageMatch {
  return {
    conversationId: r.conversation_id,
    messageId: r.message_id,
    seq: Number(r.seq),
    role: r.role,
    createdAt: Number(r.created_ms),
    snippet: splitSnippet(r.headline, m),
  };
}

/**
 * The newest matching message of each given hot conversation: its hot messages are matched here,
 * and its older messages that live only in the archive (seq ≤ base, after a re-open) from the index.
 */
export async function matchHotMessages(
  db: Db,
  q: string,
  hot: Array<{ conversationId: string; base: number; messages: StoredMessage[] }>,
): Promise<MessageMatch[]> {
  const msgs = hot.flatMap((h) => h.messages.filter((m) => (SEARCHED_ROLES as readonly string[]).includes(m.role)).map((m) => ({ c: h.conversationId, m })));
  const reopened = hot.filter((h) => h.base > 0);
  if (msgs.length === 0 && reopened.length === 0) return [];
  const mk = markers();
  const param = (values: unknown[]) => sql`${sql.param(values)}`;
  const res = await db.execute<MatchRow>(sql`
    with ${queries(q)},
    reopened(id, base) as (select * from unnest(${param(reopened.map((h) => h.conversationId))}::text[], ${param(reopened.map((h) => h.base))}::int[])),
    cand as (
      select u.conversation_id, u.seq, u.message_id, u.role, u.content, u.created_ms
      from unnest(${param(msgs.map((x) => x.c))}::text[], ${param(msgs.map((x) => x.m.seq))}::int[], ${param(msgs.map((x) => x.m.messageId))}::text[],
                  ${param(msgs.map((x) => x.m.role))}::text[], ${param(msgs.map((x) => x.m.content))}::text[], ${param(msgs.map((x) => x.m.createdAt))}::float8[])
        as u(conversation_id, seq, message_id, role, content, created_ms), q
      where ${vectorOf(sql`u.content`)} @@ (q.qe || q.qs)
      union all
      select m.conversation_id, m.seq, m.message_id, m.role, m.content, extract(epoch from m.created_at) * 1000
      from messages m join reopened r on r.id = m.conversation_id and m.seq <= r.base, q
      where m.search @@ (q.qe || q.qs)
    ),
    newest as (select distinct on (conversation_id) * from cand order by conversation_id, seq desc)
    select n.conversation_id, n.message_id, n.seq, n.role, n.created_ms, ${headline(sql`n.content`, mk.options)} as headline
    from newest n, q`);
  return res.rows.map((r) => toMatch(r, mk));
}

/**
 * Archived conversations of a tenant with at least one matching message, in the list's order
 * (newest activity first, keyset on (last_activity_at, id)), each with its newest match.
 */
export async function searchArchived(
  db: Db,
  tenantId: string,
  q: string,
  f: ArchiveListFilter,
): Promise<Array<{ record: ConversationRecord; match: MessageMatch }>> {
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
  const mk = markers();
  const res = await db.execute<MatchRow & { c: Record<string, unknown> }>(sql`
    with ${queries(q)},
    hits as (
      select conversations.id, conversations.last_activity_at from conversations, q
      where ${and(...conds)}
        and exists (select 1 from messages m where m.conversation_id = conversations.id and m.search @@ (q.qe || q.qs))
      order by conversations.last_activity_at desc, conversations.id desc
      limit ${f.limit}
    )
    select to_jsonb(c) as c, h.message_id, h.seq, h.role, h.created_ms, h.headline
    from hits join conversations c on c.id = hits.id, q,
    lateral (
      select m.message_id, m.seq, m.role, extract(epoch from m.created_at) * 1000 as created_ms, ${headline(sql`m.content`, mk.options)} as headline
      from messages m where m.conversation_id = c.id and m.search @@ (q.qe || q.qs)
      order by m.seq desc limit 1
    ) h
    order by hits.last_activity_at desc, hits.id desc`);
  return res.rows.map((r) => ({ record: recordOfJson(r.c), match: toMatch({ ...r, conversation_id: String(r.c['id']) }, mk) }));
}

/** A conversations row as `to_jsonb` spells it (snake_case, ISO times). */
function recordOfJson(c: Record<string, unknown>): ConversationRecord {
  const date = (v: unknown) => new Date(String(v));
  return toRecord({
    id: String(c['id']),
    tenantId: String(c['tenant_id']),
    agentId: (c['agent_id'] as string | null) ?? null,
    channel: (c['channel'] as ConversationRecord['channel']) ?? null,
    sessionId: (c['session_id'] as string | null) ?? null,
    userId: (c['user_id'] as string | null) ?? null,
    title: (c['title'] as string | null) ?? null,
    status: c['status'] as ConversationRecord['status'],
    messageCount: Number(c['message_count']),
    tokenCount: Number(c['token_count']),
    createdAt: date(c['created_at']),
    lastActivityAt: date(c['last_activity_at']),
    closedAt: c['closed_at'] ? date(c['closed_at']) : null,
    metadata: {},
  });
}
