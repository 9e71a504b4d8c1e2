/**
 * The tenant's hand-off queue kept live: the gateway's SSE feed (`/api/v1/handoffs/events`, token in
 * `?token=` since EventSource sends no headers) plus the queue read each time the stream (re)opens,
 * so what happened while it was down is read back. One feed per page that uses it.
 */
import type { Handoff, HandoffFeedEvent, HandoffMessage } from '@parley/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { client, unwrap } from './api.js';
import { session } from './auth.js';

export interface HandoffFeed {
  /** Waiting and held conversations, oldest first. */
  items: Handoff[];
  waiting: number;
  /** False until the queue has been read once (or while the stream is down). */
  live: boolean;
  /** Calls `fn` with each new message of a handed-off conversation; returns the unsubscribe. */
  subscribe(fn: MessageListener): () => void;
}

export type MessageListener = (conversationId: string, message: HandoffMessage) => void;

/**
 * Newest-wins merge: a state event can arrive before the snapshot read at (re)connect answers; each
 * state carries `since`, so the older of the two for a conversation never replaces the newer.
 */
function newer(a: Handoff | undefined, b: Handoff): Handoff {
  return a && a.since > b.since ? a : b;
}

export function useHandoffFeed(): HandoffFeed {
  // Includes `bot` states (a handback) so a late snapshot cannot bring back a handed-back conversation.
  const [states, setStates] = useState<Map<string, Handoff>>(new Map());
  const [live, setLive] = useState(false);
  const listeners = useRef(new Set<MessageListener>());
  // How many state events arrived so far, and at which count each conversation last changed: a
  // conversation the snapshot omits is kept only when the feed changed it after the snapshot was asked for.
  const eventCount = useRef(0);
  const changedAt = useRef(new Map<string, number>());

  useEffect(() => {
    const token = session.get()?.token ?? '';
    const es = new EventSource(`/api/v1/handoffs/events?token=${encodeURIComponent(token)}`);
    let closed = false;
    es.onopen = () => {
      const askedAt = eventCount.current;
      unwrap(client.GET('/api/v1/handoffs')).then(
        (queue) => {
          if (closed) return;
          setStates((prev) => {
            const next = new Map<string, Handoff>();
            for (const h of queue.items) next.set(h.conversationId, newer(prev.get(h.conversationId), h));
            for (const [id, h] of prev) if (!next.has(id) && (changedAt.current.get(id) ?? -1) >= askedAt) next.set(id, h);
            return next;
          });
          setLive(true);
        },
        () => !closed && setLive(false),
      );
    };
    es.onmessage = (ev: MessageEvent<string>) => {
      const event = JSON.parse(ev.data) as HandoffFeedEvent;
      if (event.type === 'state') {
        const id = event.handoff.conversationId;
        changedAt.current.set(id, eventCount.current++);
        setStates((prev) => new Map(prev).set(id, newer(prev.get(id), event.handoff)));
      } else for (const fn of [...listeners.current]) fn(event.conversationId, event.message);
    };
    es.onerror = () => setLive(false);
    return () => {
      closed = true;
      es.close();
    };
  }, []);

  const items = [...states.values()].filter((h) => h.state !== 'bot').sort((a, b) => a.since.localeCompare(b.since));
  const subscribe = (fn: MessageListener) => {
    listeners.current.add(fn);
    return () => void listeners.current.delete(fn);
  };
  return { items, waiting: items.filter((h) => h.state === 'waiting').length, live, subscribe };
}
