import type { Handoff } from '@parley/contracts';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { client, unwrap } from '../lib/api.js';
import { session } from '../lib/auth.js';
import type { HandoffFeed } from '../lib/handoff-feed.js';
import { shortDate, shortId } from '../lib/format.js';
import { href, navigate } from '../lib/router.js';
import { useSignal } from '../lib/signal.js';
import { HandoffConversation } from './handoff-conversation.js';
import { refusal } from './handoff-refusal.js';

/**
 * The hand-off desk: web conversations waiting for a person (who waits, since when) and those an
 * operator holds (who), live from the feed; "Take over" opens the conversation to answer it.
 */
export function HandoffsPage({ feed, conversationId }: { feed: HandoffFeed; conversationId: string | null }): JSX.Element {
  const me = useSignal(session)?.userId;
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => setNotice(null), [conversationId]);

  const takeOver = async (h: Handoff) => {
    setNotice(null);
    try {
      await unwrap(client.POST('/api/v1/conversations/{id}/takeover', { params: { path: { id: h.conversationId } } }));
      navigate(`/ops/handoffs/${h.conversationId}`);
    } catch (err) {
      setNotice(refusal(err));
    }
  };

  const current = conversationId ? (feed.items.find((h) => h.conversationId === conversationId) ?? null) : null;
  return (
    <section aria-labelledby="handoffs-h">
      <h1 id="handoffs-h">Handoffs</h1>
      <p class="muted" role="status" data-testid="queue-summary">
        {feed.live ? `${feed.waiting} waiting for a person` : 'Connecting to the live queue…'}
      </p>
      {notice && (
        <p role="alert" class="error">
          {notice}
        </p>
      )}
      {feed.live && feed.items.length === 0 && <p class="muted">No conversation waits for a person or is held by one.</p>}
      {feed.items.length > 0 && (
        <ul class="handoff-queue" aria-label="Queue">
          {feed.items.map((h) => (
            <li
              key={h.conversationId}
              data-conversation={h.conversationId}
              data-state={h.state}
              aria-current={h.conversationId === conversationId ? 'true' : undefined}
            >
              <div class="handoff-who">
                <strong>{h.userId ?? 'A visitor'}</strong> <span class="muted small">conversation {shortId(h.conversationId)}</span>
              </div>
              <div class="handoff-state" data-testid="handoff-state">
                {h.state === 'waiting' ? (
                  <>
                    <span class="pill pill-open">waiting</span> since <time dateTime={h.since}>{shortDate(h.since)}</time>
                  </>
                ) : (
                  <>
                    <span class="pill pill-running">held</span> by {h.holder?.id === me ? 'you' : (h.holder?.name ?? 'an operator')} since{' '}
                    <time dateTime={h.since}>{shortDate(h.since)}</time>
                  </>
                )}
              </div>
              <div class="actions">
                {h.state === 'human' && h.holder?.id === me ? (
                  <a href={href(`/ops/handoffs/${h.conversationId}`)}>Open</a>
                ) : (
                  <button type="button" class="small" aria-label={`Take over ${h.userId ?? 'the visitor'}'s conversation`} onClick={() => void takeOver(h)}>
                    Take over
                  </button>
                )}
              </div>
            </li>
          ))}
        </ul>
      )}
      {conversationId && (
        <HandoffConversation key={conversationId} conversationId={conversationId} handoff={current} feed={feed} me={me} onTakeOver={takeOver} />
      )}
    </section>
  );
}
