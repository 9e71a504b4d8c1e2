import type { ConversationStats, ConversationStatsReply } from '@parley/contracts';
import type { HotMeta, MessageFacts } from '@parley/conversation-store';
import type { ConversationDeps } from './ports.js';
import { archiveStats, type StatsRow } from './stats-archive.js';

const UNKNOWN_CHANNEL = 'unknown';
const NO_AGENT = 'none';

/**
 * Counts for a tenant over [from, to): conversations by creation time, messages by their time,
 * assistant latency over assistant messages that reported one, tokens as stored (total) and as
 * billed by the model (prompt/completion, from usage). Hot and archived data are combined so that
 * a conversation in both places counts once: the archive contributes only what is not hot.
 */
export async function conversationStats(deps: ConversationDeps, tenantId: string, req: ConversationStats): Promise<ConversationStatsReply> {
  const from = req.from ? Date.parse(req.from) : 0;
  const to = req.to ? Date.parse(req.to) : Number.POSITIVE_INFINITY;
  const inRange = (t: number) => t >= from && t < to;

  // Conversations without activity since `from` cannot contribute messages or creations to the range.
  const ids = await deps.store.hot.tenantActiveSince(tenantId, from);
  const metas = (await deps.store.hot.getMetas(ids)).filter((m): m is HotMeta => m !== null && m.tenantId === tenantId);
  const hot = req.agentId ? metas.filter((m) => m.agentId === req.agentId) : metas;
  const facts = await deps.store.hot.readFacts(hot.map((m) => m.conversationId));

  const rows: StatsRow[] = [];
  const hotLatencies: number[] = [];
  hot.forEach((m, i) => {
    const channel = m.channel ?? UNKNOWN_CHANNEL;
    const agent = m.agentId ?? NO_AGENT;
    if (inRange(m.createdAt)) rows.push({ channel, agent, day: day(m.createdAt), conversations: 1, messages: 0, tokens: 0, prompt: 0, completion: 0 });
    for (const f of facts[i] ?? []) {
      if (!inRange(f.createdAt)) continue;
      rows.push(messageRow(channel, agent, f));
      if (f.role === 'assistant' && f.latencyMs !== null) hotLatencies.push(f.latencyMs);
    }
  });
  // Every hot metas of the tenant, not only the filtered ones: their archived part is excluded the same way.
  const archived = await archiveStats(deps.store.db, {
    tenantId,
    from,
    to,
    agentId: req.agentId,
    hot: metas.map((m) => ({ conversationId: m.conversationId, base: m.base })),
    hotLatencies,
  });
  return summarise([...rows, ...archived.rows], archived.latency);
}

function messageRow(channel: string, agent: string, f: MessageFacts): StatsRow {
  return { channel, agent, day: day(f.createdAt), conversations: 0, messages: 1, tokens: f.tokenCount, prompt: f.promptTokens, completion: f.completionTokens };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function summarise(rows: StatsRow[], latency: ConversationStatsReply['assistantLatencyMs']): ConversationStatsReply {
  const out: ConversationStatsReply = {
    conversations: 0,
    messages: 0,
    byChannel: {},
    byAgent: {},
    byDay: [],
    assistantLatencyMs: latency,
    tokens: { total: 0, prompt: 0, completion: 0 },
  };
  const days = new Map<string, { conversations: number; messages: number }>();
  for (const r of rows) {
    out.conversations += r.conversations;
    out.messages += r.messages;
    out.tokens.total += r.tokens;
    out.tokens.prompt += r.prompt;
    out.tokens.completion += r.completion;
    for (const [map, key] of [
      [out.byChannel, r.channel],
      [out.byAgent, r.agent],
    ] as const) {
      const c = (map[key] ??= { conversations: 0, messages: 0 });
      c.conversations += r.conversations;
      c.messages += r.messages;
    }
    const d = days.get(r.day) ?? { conversations: 0, messages: 0 };
    d.conversations += r.conversations;
    d.messages += r.messages;
    days.set(r.day, d);
  }
  out.byDay = [...days.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, c]) => ({ day: d, ...c }));
  return out;
}
