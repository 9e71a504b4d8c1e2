import type { ConversationSummary } from '@parley/contracts';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import type { Session } from '../lib/auth.js';
import { plural } from '../lib/format.js';
import { href } from '../lib/router.js';
import { SearchBox } from '../ui/search-box.js';
import { Snippet } from '../ui/snippet.js';

interface Page {
  items: ConversationSummary[];
  nextCursor: string | null;
}

const PAGE = 30;

/** The signed-in user's own conversations, from the server: another device or a cleared browser lists the same. */
const load = (q: string, cursor?: string): Promise<Page> =>
  unwrap(client.GET('/api/v1/me/conversations', { params: { query: { q: q || undefined, limit: PAGE, cursor } } }));

export function ConversationList(props: { session: Session; current: string | null; refreshKey: string; onPick(): void }): JSX.Element {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [q, setQ] = useState('');
  useEffect(() => {
    let live = true;
    load(q).then(
      (x) => live && (setPage(x), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [props.session.token, props.current, props.refreshKey, q]);
  const more = async (cursor: string) => {
    try {
      const next = await load(q, cursor);
      setPage((p) => ({ items: [...(p?.items ?? []), ...next.items], nextCursor: next.nextCursor }));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const search = <SearchBox label="Search your conversations" value={q} onSearch={setQ} />;
  if (error)
    return (
      <>
        {search}
        <p class="error">Could not load conversations: {error}</p>
      </>
    );
  if (!page) return <p class="muted">Loading…</p>;
  const items = page.items;
  // A new conversation is listed once it has its first message; until then it is shown as "New conversation". Not among search results.
  const shown = !q && props.current && !items.some((c) => c.conversationId === props.current) ? [placeholder(props.current), ...items] : items;
  return (
    <>
      {search}
      {q && items.length === 0 && <p class="muted">No messages match “{q}”.</p>}
      <ul class="conv-list">
        {shown.map((c) => (
          <li key={c.conversationId}>
            <a href={href(`/chat/${c.conversationId}`)} aria-current={c.conversationId === props.current ? 'page' : undefined} onClick={props.onPick}>
              <span class="title">{c.title || 'New conversation'}</span>
              {c.match && <Snippet match={c.match} />}
              <span class="meta">
                {plural(c.messageCount, 'message')}
                {c.lastActivityAt ? ` · ${new Date(c.lastActivityAt).toLocaleString()}` : ''}
                {c.status === 'closed' ? ' · closed' : ''}
              </span>
            </a>
          </li>
        ))}
      </ul>
      {page.nextCursor && (
        <button type="button" class="ghost small" onClick={() => void more(page.nextCursor as string)}>
          Show more conversations
        </button>
      )}
    </>
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
