import type { Handoff, HandoffMessage } from '@parley/contracts';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import type { HandoffFeed } from '../lib/handoff-feed.js';
import { href, navigate } from '../lib/router.js';
import { useAsync } from '../lib/use-async.js';
import { refusal } from './handoff-refusal.js';

type Line = Pick<HandoffMessage, 'messageId' | 'role' | 'content' | 'handoff' | 'createdAt'>;

/**
 * One handed-off conversation: its transcript (read once, then the feed's new messages appended,
 * deduplicated by message id), and for the operator who holds it a message box and "Hand back".
 */
export function HandoffConversation(props: {
  conversationId: string;
  handoff: Handoff | null;
  feed: HandoffFeed;
  me: string | undefined;
  onTakeOver(h: Handoff): Promise<void>;
}): JSX.Element {
  const { conversationId, handoff, feed, me } = props;
  const path = { id: conversationId };
  const history = useAsync(() => unwrap(client.GET('/api/v1/conversations/{id}/messages', { params: { path, query: { limit: 200 } } })), [conversationId]);
  const [live, setLive] = useState<Line[]>([]);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => feed.subscribe((id, m) => id === conversationId && setLive((l) => [...l, m])), [conversationId]);

  const lines = dedupe([...(history.data?.messages ?? []), ...live]);
  const mine = handoff?.state === 'human' && handoff.holder?.id === me;

  const send = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const id = crypto.randomUUID();
      const saved = await unwrap(client.POST('/api/v1/conversations/{id}/messages', { params: { path }, body: { id, text } }));
      setLive((l) => [...l, saved]);
      setText('');
    } catch (err) {
      setError(refusal(err));
    } finally {
      setBusy(false);
    }
  };
  const handBack = async () => {
    setError(null);
    try {
      await unwrap(client.POST('/api/v1/conversations/{id}/handback', { params: { path } }));
      navigate('/ops/handoffs');
    } catch (err) {
      setError(refusal(err));
    }
  };

  return (
    <section class="handoff-conversation" aria-labelledby="hc-h">
      <h2 id="hc-h">Conversation with {handoff?.userId ?? 'the visitor'}</h2>
      <p class="muted small">
        {handoff === null
          ? 'The assistant answers this conversation.'
          : handoff.state === 'waiting'
            ? 'Waiting for a person.'
            : mine
              ? 'You hold this conversation: the assistant is silent until you hand it back.'
              : `${handoff.holder?.name ?? 'An operator'} holds this conversation.`}{' '}
        <a href={href(`/ops/conversations/${conversationId}`)}>Full transcript</a>
      </p>
      {history.error && (
        <p role="alert" class="error">
          {history.error.message}
        </p>
      )}
      <ol class="transcript" aria-label="Messages" aria-live="polite">
        {lines.map((m) => (
          <li key={m.messageId} class={`msg msg-${m.role}`} data-role={m.role}>
            {m.role === 'handoff' ? (
              <p class="note">{markerText(m)}</p>
            ) : (
              <>
                <div class="msg-head">
                  <strong>{who(m)}</strong>
                  <span class="msg-meta">
                    <time dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleTimeString()}</time>
                  </span>
                </div>
                <p class="plain">{m.content}</p>
              </>
            )}
          </li>
        ))}
      </ol>
      {handoff?.state === 'waiting' || (handoff?.state === 'human' && !mine) ? (
        <button type="button" onClick={() => void props.onTakeOver(handoff)}>
          Take over
        </button>
      ) : null}
      {mine && (
        <form class="handoff-reply" onSubmit={(e) => void send(e)}>
          <label for="hc-text">Your message</label>
          <textarea id="hc-text" rows={3} maxLength={10_000} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="actions">
            <button type="submit" disabled={busy || !text.trim()}>
              Send
            </button>
            <button type="button" class="ghost" onClick={() => void handBack()}>
              Hand back
            </button>
          </div>
        </form>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </section>
  );
}

function dedupe(lines: Line[]): Line[] {
  const seen = new Set<string>();
  return lines.filter((m) => !seen.has(m.messageId) && (seen.add(m.messageId), true));
}

function who(m: Line): string {
  if (m.role === 'user') return 'Visitor';
  if (m.role === 'human_agent') return m.handoff?.agent?.name ?? 'Operator';
  if (m.role === 'assistant') return 'Assistant';
  return m.role;
}

function markerText(m: Line): string {
  const name = m.handoff?.agent?.name ?? 'An operator';
  if (m.handoff?.event === 'joined') return `${name} joined`;
  if (m.handoff?.event === 'left') return `${name} left; the assistant answers again`;
  return 'Waiting for a person';
}
