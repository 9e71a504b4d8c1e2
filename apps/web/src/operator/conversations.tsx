import { Channel, ConversationStatus } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { href, navigate } from '../lib/router.js';
import { shortDate, shortId } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';
import { SearchBox } from '../ui/search-box.js';
import { Snippet } from '../ui/snippet.js';

/** The tenant's conversations; filters live in the URL so a filtered list can be shared or reloaded. */
export function ConversationsPage({ params }: { params: URLSearchParams }): JSX.Element {
  // The URL is anyone's to edit: a filter the gateway does not know reads as no filter.
  const status = ConversationStatus.safeParse(params.get('status')).data;
  const channel = Channel.safeParse(params.get('channel')).data;
  const agentId = params.get('agentId') ?? '';
  const q = params.get('q') ?? '';
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const agents = useAsync(() => unwrap(client.GET('/api/v1/agents')), []);
  const list = useAsync(
    () =>
      unwrap(
        client.GET('/api/v1/conversations', { params: { query: { q: q || undefined, status, channel, agentId: agentId || undefined, cursor, limit: 25 } } }),
      ),
    [q, status, channel, agentId, cursor],
  );
  const setFilter = (key: string, value: string) => {
    const p = new URLSearchParams(params);
    if (value) p.set(key, value);
    else p.delete(key);
    setCursors([]);
    const q = p.toString();
    navigate(`/ops/conversations${q ? `?${q}` : ''}`);
  };

  return (
    <section aria-labelledby="convs-h">
      <h1 id="convs-h">Conversations</h1>
      <SearchBox label="Search messages" value={q} onSearch={(text) => setFilter('q', text)} />
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status ?? ''} onChange={(e) => setFilter('status', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="open">open</option>
            <option value="closed">closed</option>
          </select>
        </label>
        <label>
          Channel
          <select value={channel ?? ''} onChange={(e) => setFilter('channel', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="web">web</option>
            <option value="chatwoot">chatwoot</option>
            <option value="api">api</option>
          </select>
        </label>
        <label>
          Agent
          <select value={agentId} onChange={(e) => setFilter('agentId', e.currentTarget.value)}>
            <option value="">any</option>
            {agents.data?.agents.map((a) => (
              <option key={a.agentId} value={a.agentId}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
      </form>
      {list.error && (
        <p role="alert" class="error">
          {list.error.message}
        </p>
      )}
      {list.data && list.data.items.length === 0 && <p class="muted">{q ? `No messages match “${q}”.` : 'No conversations match.'}</p>}
      {list.data && list.data.items.length > 0 && (
        <div class="table-wrap">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Conversation</th>
                <th scope="col">User</th>
                <th scope="col">Agent</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Messages
                </th>
                <th scope="col" class="num">
                  Tokens
                </th>
                <th scope="col">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((c) => (
                <tr key={c.conversationId}>
                  <td class="clip" title={c.title ?? c.conversationId}>
                    <a href={href(`/ops/conversations/${c.conversationId}`)}>{c.title || shortId(c.conversationId)}</a>
                    {c.match && <Snippet match={c.match} />}
                  </td>
                  <td>{c.userId ?? '—'}</td>
                  <td>{c.agentId ?? '—'}</td>
                  <td>{c.channel ?? '—'}</td>
                  <td>
                    <span class={`pill pill-${c.status}`}>{c.status}</span>
                    {c.archived && <span class="pill">archived</span>}
                  </td>
                  <td class="num">{c.messageCount}</td>
                  <td class="num">{c.tokenCount}</td>
                  <td>{shortDate(c.lastActivityAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="pager">
        <button type="button" class="ghost" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button
          type="button"
          class="ghost"
          disabled={!list.data?.nextCursor}
          onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}
        >
          Older
        </button>
      </div>
    </section>
  );
}
