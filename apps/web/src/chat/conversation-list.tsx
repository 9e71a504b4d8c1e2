import type { ConversationSummary } from '@parley/contracts';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../lib/api.js';
import { isAdmin, type Session } from '../lib/auth.js';
import { href } from '../lib/router.js';

// Listing every conversation needs the admin role; a plain user's list is the ones this browser opened.
const known = (s: Session) => `parley.conversations.${s.tenantId}.${s.userId}`;

export function rememberConversation(s: Session, id: string): void {
  const ids = readKnown(s).filter((x) => x !== id);
  localStorage.setItem(known(s), JSON.stringify([id, ...ids].slice(0, 50)));
}

function readKnown(s: Session): string[] {
  try {
    return JSON.parse(localStorage.getItem(known(s)) ?? '[]') as string[];
  } catch {
    return [];
  }
}

async function load(s: Session): Promise<ConversationSummary[]> {
  const byId = new Map<string, ConversationSummary>();
  if (isAdmin(s)) {
    const page = await get<{ items: ConversationSummary[] }>(`/conversations${query({ limit: 100 })}`);
    for (const c of page.items) if (c.userId === s.userId) byId.set(c.conversationId, c);
  }
  const missing = readKnown(s).filter((id) => !byId.has(id));
  const found = await Promise.all(missing.map((id) => get<ConversationSummary>(`/conversations/${encodeURIComponent(id)}`).catch(() => null)));
  for (const c of found) if (c) byId.set(c.conversationId, c);
  return [...byId.values()].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
}

export function ConversationList(props: { session: Session; current: string | null; refreshKey: string; onPick(): void }): JSX.Element {
  const [items, setItems] = useState<ConversationSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    load(props.session).then(
      (x) => live && (setItems(x), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [props.session.token, props.current, props.refreshKey]);
  if (error) return <p class="error">Could not load conversations: {error}</p>;
  if (!items) return <p class="muted">Loading…</p>;
  const shown = props.current && !items.some((c) => c.conversationId === props.current) ? [placeholder(props.current), ...items] : items;
  return (
    <ul class="conv-list">
      {shown.map((c) => (
        <li key={c.conversationId}>
          <a href={href(`/chat/${c.conversationId}`)} aria-current={c.conversationId === props.current ? 'page' : undefined} onClick={props.onPick}>
            <span class="title">{c.title || 'New conversation'}</span>
            <span class="meta">
              {c.messageCount} messages · {c.lastActivityAt ? new Date(c.lastActivityAt).toLocaleString() : ''}
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

function placeholder(id: string): ConversationSummary {
  return {
    conversationId: id,
    agentId: null,
    channel: 'web',
    sessionId: null,
    userId: null,
    title: null,
    status: 'open',
    archived: false,
    messageCount: 0,
    tokenCount: 0,
    createdAt: '',
    lastActivityAt: '',
  };
}
