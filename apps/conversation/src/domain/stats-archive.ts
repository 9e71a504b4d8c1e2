import { sql } from 'drizzle-orm';
import type { ConversationStatsReply } from '@parley/contracts';
import type { Db } from '@parley/db/client';

/** One aggregated slice (channel × agent × day); hot rows have the same shape with counts of 1. */
export interface StatsRow {
  channel: string;
  agent: string;
  day: string;
  conversations: number;
  messages: number;
  tokens: number;
  prompt: number;
  completion: number;
}

export interface ArchiveStatsQuery {
  tenantId: string;
  from: number;
  to: number;
  agentId?: string | undefined;
  /** Hot conversations: the archive counts only their messages with seq ≤ base, and not their rows. */
  hot: Array<{ conversationId: string; base: number }>;
  /** Latencies of hot assistant messages, so percentiles are computed over both sets at once. */
  hotLatencies: number[];
}

// Beyond what JS dates and PostgreSQL both represent, a bound is open: PostgreSQL's 'infinity'.
const iso = (ms: number) => (ms >= 8.64e15 || !Number.isFinite(ms) ? 'infinity' : new Date(ms).toISOString());

export async function archiveStats(db: Db, q: ArchiveStatsQuery): Promise<{ rows: StatsRow[]; latency: ConversationStatsReply['assistantLatencyMs'] }> {
  const ids = sql.param(q.hot.map((h) => h.conversationId));
  const bases = sql.param(q.hot.map((h) => h.base));
  const scope = sql`
    hot(id, base) as (select * from unnest(${ids}::text[], ${bases}::int[])),
    c as (select id, coalesce(channel, 'unknown') as channel, coalesce(agent_id, 'none') as agent, created_at
          from conversations where tenant_id = ${q.tenantId} and (${q.agentId ?? null}::text is null or agent_id = ${q.agentId ?? null}))`;
  const from = iso(q.from);
  const to = iso(q.to);
  const [convs, msgs, lat] = await Promise.all([
    db.execute(sql`with ${scope}
      select c.channel, c.agent, to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as n
      from c left join hot on hot.id = c.id
      where hot.id is null and c.created_at >= ${from}::timestamptz and c.created_at < ${to}::timestamptz
      group by 1, 2, 3`),
    db.execute(sql`with ${scope}
      select c.channel, c.agent, to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, count(*)::int as n,
             coalesce(sum(m.token_count), 0)::float8 as tokens,
             coalesce(sum((m.usage->>'promptTokens')::int), 0)::float8 as prompt,
             coalesce(sum((m.usage->>'completionTokens')::int), 0)::float8 as completion
      from messages m join c on c.id = m.conversation_id left join hot on hot.id = m.conversation_id
      where (hot.id is null or m.seq <= hot.base) and m.created_at >= ${from}::timestamptz and m.created_at < ${to}::timestamptz
      group by 1, 2, 3`),
    db.execute(sql`with ${scope}
      select avg(x)::float8 as avg, percentile_cont(0.5) within group (order by x) as p50, percentile_cont(0.95) within group (order by x) as p95
      from (
        select m.latency_ms as x from messages m join c on c.id = m.conversation_id left join hot on hot.id = m.conversation_id
        where m.role = 'assistant' and m.latency_ms is not null and (hot.id is null or m.seq <= hot.base)
          and m.created_at >= ${from}::timestamptz and m.created_at < ${to}::timestamptz
        union all select unnest(${sql.param(q.hotLatencies)}::int[])
      ) s`),
  ]);
  const rows: StatsRow[] = [];
  for (const r of convs.rows) {
    rows.push({
      channel: String(r.channel),
      agent: String(r.agent),
      day: String(r.day),
      conversations: Number(r.n),
      messages: 0,
      tokens: 0,
      prompt: 0,
      completion: 0,
    });
  }
  for (const r of msgs.rows) {
    rows.push({
      channel: String(r.channel),
      agent: String(r.agent),
      day: String(r.day),
      conversations: 0,
      messages: Number(r.n),
      tokens: Number(r.tokens),
      prompt: Number(r.prompt),
      completion: Number(r.completion),
    });
  }
  const l = lat.rows[0] ?? {};
  const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);
  return { rows, latency: { avg: num(l.avg), p50: num(l.p50), p95: num(l.p95) } };
}
