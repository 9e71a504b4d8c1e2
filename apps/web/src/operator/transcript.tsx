import type { HistoryMessage, TurnOutcome } from '@parley/contracts';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { href } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';
import { plural } from '../lib/format.js';
import { Markdown } from '../markdown/markdown.js';

/** Every message of one conversation with its token count, latency, model and run. */
export function TranscriptPage({ conversationId }: { conversationId: string }): JSX.Element {
  const path = { id: conversationId };
  const conv = useAsync(() => unwrap(client.GET('/api/v1/conversations/{id}', { params: { path } })), [conversationId]);
  const [older, setOlder] = useState<HistoryMessage[]>([]);
  const [hasMoreOlder, setHasMoreOlder] = useState<boolean | null>(null);
  const page = useAsync(() => unwrap(client.GET('/api/v1/conversations/{id}/messages', { params: { path, query: { limit: 200 } } })), [conversationId]);
  const messages = [...older, ...(page.data?.messages ?? [])];
  const hasMore = hasMoreOlder ?? page.data?.hasMore ?? false;
  const loadOlder = async () => {
    const h = await unwrap(client.GET('/api/v1/conversations/{id}/messages', { params: { path, query: { limit: 200, before: messages[0]?.seq } } }));
    setOlder([...h.messages, ...older]);
    setHasMoreOlder(h.hasMore);
  };
  const close = async () => {
    await unwrap(client.POST('/api/v1/conversations/{id}/close', { params: { path } }));
    conv.reload();
  };
  const c = conv.data;
  return (
    <section aria-labelledby="tr-h">
      <p>
        <a href={href('/ops/conversations')}>← Conversations</a>
      </p>
      <h1 id="tr-h">{c?.title || 'Conversation'}</h1>
      {conv.error && (
        <p role="alert" class="error">
          {conv.error.message}
        </p>
      )}
      {c && (
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{c.conversationId}</code>
          </dd>
          <dt>User</dt>
          <dd>{c.userId ?? '—'}</dd>
          <dt>Agent</dt>
          <dd>{c.agentId ?? '—'}</dd>
          <dt>Channel</dt>
          <dd>{c.channel ?? '—'}</dd>
          <dt>Status</dt>
          <dd>
            {c.status}
            {c.archived ? ' (archived)' : ''}
            {c.status === 'open' && (
              <button type="button" class="ghost small" onClick={() => void close()}>
                Close
              </button>
            )}
          </dd>
          <dt>Messages</dt>
          <dd data-testid="message-count">{c.messageCount}</dd>
          <dt>Tokens</dt>
          <dd data-testid="token-count">{c.tokenCount}</dd>
        </dl>
      )}
      {hasMore && (
        <button type="button" class="ghost" onClick={() => void loadOlder()}>
          Load older messages
        </button>
      )}
      {page.error && (
        <p role="alert" class="error">
          {page.error.message}
        </p>
      )}
      <ol class="transcript">
        {messages.map((m) => (
          <li key={m.messageId} class={`msg msg-${m.role}`}>
            <div class="msg-head">
              <strong>{m.role}</strong>
              <span class="msg-meta">
                #{m.seq} · <span data-testid="tokens">{plural(m.tokenCount, 'token')}</span>
                {m.latencyMs !== undefined && (
                  <>
                    {' '}
                    · <span data-testid="latency">{m.latencyMs} ms</span>
                  </>
                )}
                {m.model && <> · {m.model}</>}
                {m.runId && (
                  <>
                    {' · '}
                    <a href={href(`/ops/runs/${m.runId}`)}>run</a>
                  </>
                )}
                {' · '}
                <time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleTimeString()}</time>
              </span>
            </div>
            {m.role === 'status' ? (
              <p class={m.status?.outcome === 'cancelled' ? 'note' : 'error'} data-testid="turn-status">
                Turn {m.status ? outcomeLabel[m.status.outcome] : 'ended without an answer'}
                {m.status && <> ({m.status.code})</>}: {m.content}
              </p>
            ) : m.role === 'assistant' ? (
              <Markdown text={m.content} />
            ) : (
              <p class="plain">{m.content}</p>
            )}
            {m.toolCalls?.map((t) => (
              <p key={t.id} class="tool-call">
                → <code>{t.name}</code> <code>{t.arguments}</code>
              </p>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}

const outcomeLabel: Record<TurnOutcome, string> = { failed: 'failed', cancelled: 'cancelled', timed_out: 'timed out' };
