/**
 * The conversation list with `q`: conversations whose user or assistant messages match, in the
 * list's order (newest activity first) and with the list's cursor, each with its newest matching
 * message as a highlighted snippet. Hot conversations are searched where they are (their messages
 * are matched by PostgreSQL with the archive's expression, see conversation-store/search.ts), so a
 * message saved a second ago is found before migration copies it.
 *
 * Cost: a search reads the hot messages of the tenant's (or the user's) hot conversations after the
 * cursor until a page is full; the hot set is bounded by the idle threshold after which migration
 * moves conversations to the archive, where the GIN index answers.
 */
import type { ListConversations, ListConversationsReply } from '@parley/contracts';
import { searchArchived, matchHotMessages, type ConversationRecord, type MessageMatch } from '@parley/conversation-store';
import { decodeCursor, encodeCursor, filterOf, hotInOrder, newestFirst, type Cursor } from './list.js';
import type { ConversationDeps } from './ports.js';
import { toSummary } from './summary.js';

interface Hit {
  record: ConversationRecord;
  archived: boolean;
  match: MessageMatch;
}

/** Hot conversations scanned per round trip (one Redis pipeline, one PostgreSQL statement). */
const HOT_BATCH = 50;

export async function searchConversations(deps: ConversationDeps, tenantId: string, req: ListConversations & { q: string }): Promise<ListConversationsReply> {
  const cursor = req.cursor ? decodeCursor(req.cursor) : null;
  const want = req.limit + 1;
  const [hot, archived] = await Promise.all([hotHits(deps, tenantId, req, cursor, want), archivedHits(deps, tenantId, req, cursor, want)]);
  const merged = [...hot, ...archived].sort((a, b) => newestFirst(a.record, b.record));
  const page = merged.slice(0, req.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((h) => ({
      ...toSummary(h.record, h.archived),
      match: {
        messageId: h.match.messageId,
        seq: h.match.seq,
        role: h.match.role,
        createdAt: new Date(h.match.createdAt).toISOString(),
        snippet: h.match.snippet,
      },
    })),
    nextCursor: merged.length > req.limit && last ? encodeCursor({ t: last.record.lastActivityAt, id: last.record.conversationId }) : null,
  };
}

async function hotHits(deps: ConversationDeps, tenantId: string, req: ListConversations & { q: string }, cursor: Cursor | null, want: number): Promise<Hit[]> {
  const out: Hit[] = [];
  for await (const metas of hotInOrder(deps, tenantId, req.userId, cursor, HOT_BATCH, filterOf(req))) {
    if (metas.length === 0) continue;
    const messages = await deps.store.hot.readMessages(metas.map((m) => m.conversationId));
    const found = await matchHotMessages(
      deps.store.db,
      req.q,
      metas.map((m, i) => ({ conversationId: m.conversationId, base: m.base, messages: messages[i] ?? [] })),
    );
    const byId = new Map(found.map((f) => [f.conversationId, f]));
    // In index order, so the page stays the newest hits.
    for (const meta of metas) {
      const match = byId.get(meta.conversationId);
      if (match) out.push({ record: meta, archived: false, match });
    }
    if (out.length >= want) break;
  }
  return out.slice(0, want);
}

async function archivedHits(
  deps: ConversationDeps,
  tenantId: string,
  req: ListConversations & { q: string },
  cursor: Cursor | null,
  want: number,
): Promise<Hit[]> {
  const out: Hit[] = [];
  let position = cursor ? { lastActivityAt: cursor.t, conversationId: cursor.id } : undefined;
  for (;;) {
    const rows = await searchArchived(deps.store.db, tenantId, req.q, {
      status: req.status,
      agentId: req.agentId,
      channel: req.channel,
      userId: req.userId,
      after: position,
      limit: want,
    });
    // A conversation that is hot again is searched hot, where its newest messages are.
    const hot = await deps.store.hot.getMetas(rows.map((r) => r.record.conversationId));
    rows.forEach((r, i) => {
      if (!hot[i]) out.push({ record: r.record, archived: true, match: r.match });
    });
    const last = rows[rows.length - 1];
    if (out.length >= want || rows.length < want || !last) return out.slice(0, want);
    position = { lastActivityAt: last.record.lastActivityAt, conversationId: last.record.conversationId };
  }
}
