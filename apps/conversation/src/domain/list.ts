import { ActionError, isChannelConversationId, type ListConversations, type ListConversationsReply } from '@parley/contracts';
import { listArchived, type ConversationRecord, type HotMeta } from '@parley/conversation-store';
import type { ConversationDeps } from './ports.js';
import { searchConversations } from './search.js';
import { toSummary } from './summary.js';

/** Position in the newest-activity-first order: (lastActivityAt desc, conversationId desc). */
export interface Cursor {
  t: number;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Partial<Cursor>;
    if (typeof c.t === 'number' && typeof c.id === 'string') return { t: c.t, id: c.id };
  } catch {
    // fall through
  }
  throw new ActionError('invalid_payload', 'cursor: not a cursor this service issued; start again without one');
}

/** Strictly after the cursor in the list order. */
export const after = (r: { lastActivityAt: number; conversationId: string }, c: Cursor | null) =>
  c === null || r.lastActivityAt < c.t || (r.lastActivityAt === c.t && r.conversationId < c.id);

export const newestFirst = (a: ConversationRecord, b: ConversationRecord) =>
  b.lastActivityAt - a.lastActivityAt || (a.conversationId < b.conversationId ? 1 : a.conversationId > b.conversationId ? -1 : 0);

/** The list's filters on a conversation header (status, agent, channel, owner). */
export function filterOf(req: ListConversations): (r: ConversationRecord) => boolean {
  const owned = (r: ConversationRecord) => !req.userId || (r.userId === req.userId && !isChannelConversationId(r.conversationId));
  return (r) =>
    (!req.status || r.status === req.status) && (!req.agentId || r.agentId === req.agentId) && (!req.channel || r.channel === req.channel) && owned(r);
}

/**
 * One page of a tenant's conversations (or of one user's own, with `userId`), hot and archived merged. The cursor is a position in a total
 * order, not an offset, so paging stays stable while conversations move from Redis to PostgreSQL: a
 * conversation present in both (migrated but not yet deleted, or re-opened) is shown once, hot.
 */
export async function listConversations(deps: ConversationDeps, tenantId: string, req: ListConversations): Promise<ListConversationsReply> {
  if (req.q !== undefined) return searchConversations(deps, tenantId, { ...req, q: req.q });
  const cursor = req.cursor ? decodeCursor(req.cursor) : null;
  const want = req.limit + 1;
  const matches = filterOf(req);

  const [hot, archived] = await Promise.all([
    hotCandidates(deps, tenantId, req.userId, cursor, want, matches),
    archivedCandidates(deps, tenantId, req, cursor, want),
  ]);
  const merged = [...hot.map((r) => ({ r, archived: false })), ...archived.map((r) => ({ r, archived: true }))].sort((a, b) => newestFirst(a.r, b.r));
  const page = merged.slice(0, req.limit);
  const last = page[page.length - 1];
  return {
    items: page.map((x) => toSummary(x.r, x.archived)),
    nextCursor: merged.length > req.limit && last ? encodeCursor({ t: last.r.lastActivityAt, id: last.r.conversationId }) : null,
  };
}

/**
 * Hot conversations after the cursor that pass `matches`, in list order, pulled a batch at a time
 * from the user's index when the list is one user's (a tenant can have many users), else the tenant's.
 */
export async function* hotInOrder(
  deps: ConversationDeps,
  tenantId: string,
  userId: string | undefined,
  cursor: Cursor | null,
  batch: number,
  matches: (r: ConversationRecord) => boolean,
): AsyncGenerator<HotMeta[]> {
  for (let offset = 0; ; offset += batch) {
    const maxScore = cursor?.t ?? Number.POSITIVE_INFINITY;
    const entries = userId
      ? await deps.store.hot.userPage(tenantId, userId, maxScore, offset, batch)
      : await deps.store.hot.tenantPage(tenantId, maxScore, offset, batch);
    const metas = await deps.store.hot.getMetas(entries.map((e) => e.conversationId));
    const out: HotMeta[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const meta = metas[i];
      if (!meta || meta.tenantId !== tenantId) {
        // The hot copy is gone (migrated, or expired): drop the entry unless a newer save rewrote it.
        await (userId
          ? deps.store.hot.dropStaleUserEntry(tenantId, userId, e.conversationId, e.lastActivityAt)
          : deps.store.hot.dropStaleTenantEntry(tenantId, e.conversationId, e.lastActivityAt));
        continue;
      }
      if (after(meta, cursor) && matches(meta)) out.push(meta);
    }
    yield out;
    if (entries.length < batch) return;
  }
}

async function hotCandidates(
  deps: ConversationDeps,
  tenantId: string,
  userId: string | undefined,
  cursor: Cursor | null,
  want: number,
  matches: (r: ConversationRecord) => boolean,
): Promise<HotMeta[]> {
  const out: HotMeta[] = [];
  for await (const metas of hotInOrder(deps, tenantId, userId, cursor, Math.max(want * 2, 50), matches)) {
    out.push(...metas);
    if (out.length >= want) break;
  }
  return out.slice(0, want);
}

async function archivedCandidates(
  deps: ConversationDeps,
  tenantId: string,
  req: ListConversations,
  cursor: Cursor | null,
  want: number,
): Promise<ConversationRecord[]> {
  const out: ConversationRecord[] = [];
  let position = cursor ? { lastActivityAt: cursor.t, conversationId: cursor.id } : undefined;
  for (;;) {
    const rows = await listArchived(deps.store.db, tenantId, {
      status: req.status,
      agentId: req.agentId,
      channel: req.channel,
      userId: req.userId,
      after: position,
      limit: want,
    });
    // Rows whose conversation is hot again are listed from Redis, with their newer state.
    const hot = await deps.store.hot.getMetas(rows.map((r) => r.conversationId));
    rows.forEach((r, i) => {
      if (!hot[i]) out.push(r);
    });
    const last = rows[rows.length - 1];
    if (out.length >= want || rows.length < want || !last) return out.slice(0, want);
    position = { lastActivityAt: last.lastActivityAt, conversationId: last.conversationId };
  }
}
