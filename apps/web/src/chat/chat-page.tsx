import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Session } from '../lib/auth.js';
import { currentRoute, navigate } from '../lib/router.js';
import { useSignal } from '../lib/signal.js';
import { ChatStore } from './chat-store.js';
import { Composer } from './composer.js';
import { ConnectionBadge } from './connection-badge.js';
import { ConversationList } from './conversation-list.js';
import { TurnView } from './turn-view.js';

export function ChatPage({ session, conversationId, agent }: { session: Session; conversationId: string | undefined; agent: string | undefined }): JSX.Element {
  const [store, setStore] = useState<ChatStore | null>(null);
  // Bumped by "Reconnect" after the server closed the socket for good (e.g. 4403 on a conversation id).
  const [generation, setGeneration] = useState(0);
  // One socket per signed-in user; switching conversations reuses it.
  useEffect(() => {
    // Without an id in the address the server resumes the user's latest open conversation (or starts one);
    // `#/chat?agent=…` (from the agents page) opens a fresh conversation with that agent instead.
    const s = new ChatStore(
      session,
      conversationId,
      (id) => {
        // Only while the chat is what the address shows: a user who already moved on stays there.
        const [section = 'chat'] = currentRoute().parts;
        if (section === 'chat' && location.hash !== `#/chat/${id}`) navigate(`/chat/${id}`, true);
      },
      agent,
    );
    setStore(s);
    void s.start();
    return () => s.close();
  }, [session.token, generation]);
  // Another agent named while the chat is open: a fresh conversation with it.
  useEffect(() => {
    if (store && agent && agent !== store.agent) void store.ready.then(() => store.newConversation(agent));
  }, [store, agent]);
  useEffect(() => {
    if (store && conversationId && store.conversationId.get() && conversationId !== store.conversationId.get()) void store.open(conversationId);
  }, [store, conversationId]);
  if (!store) return <p>Connecting…</p>;
  const reconnect = () => {
    // Without the conversation id: the one in the address may be what the server refused.
    navigate('/chat', true);
    setGeneration(generation + 1);
  };
  return <Chat store={store} session={session} onReconnect={reconnect} />;
}

function Chat({ store, session, onReconnect }: { store: ChatStore; session: Session; onReconnect(): void }): JSX.Element {
  const turns = useSignal(store.turns);
  const current = useSignal(store.conversationId);
  const running = useSignal(store.activeRunId);
  const hasMore = useSignal(store.hasMore);
  const error = useSignal(store.error);
  const conn = useSignal(store.conn);
  const [listOpen, setListOpen] = useState(false);
  const log = useRef<HTMLDivElement>(null);
  // Stay pinned to the newest text while it streams, unless the reader scrolled up.
  useEffect(() => {
    const el = log.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 160) el.scrollTop = el.scrollHeight;
  }, [turns]);

  return (
    <div class="chat">
      <aside class={`sidebar ${listOpen ? 'open' : ''}`} aria-label="Conversations">
        <div class="sidebar-head">
          <button type="button" onClick={() => void store.newConversation().then(() => setListOpen(false))} disabled={conn !== 'online'}>
            New conversation
          </button>
        </div>
        <ConversationList session={session} current={current} refreshKey={`${running ?? ''}${turns.length}`} onPick={() => setListOpen(false)} />
      </aside>
      <section class="conversation" aria-label="Conversation">
        <div class="conv-head">
          <button type="button" class="ghost only-phone" aria-expanded={listOpen} onClick={() => setListOpen(!listOpen)}>
            ☰ Conversations
          </button>
          <ConnectionBadge store={store} />
          {conn === 'offline' && (
            <button type="button" class="ghost small" onClick={onReconnect}>
              Reconnect
            </button>
          )}
        </div>
        <div class="log" ref={log} role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages">
          {hasMore && (
            <button type="button" class="ghost older" onClick={() => void store.loadOlder()}>
              Show older messages
            </button>
          )}
          {turns.length === 0 && <p class="empty">No messages yet. Say hello.</p>}
          {turns.map((t) => (
            <TurnView key={t.key} turn={t} staff={session.roles.includes('operator') || session.roles.includes('admin')} decide={store.decider} />
          ))}
        </div>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <Composer
          disabled={conn !== 'online' || !current}
          running={running !== null}
          maxChars={store.welcome?.limits.maxTextChars ?? 8000}
          onSend={(text) => void store.send(text)}
          onStop={() => store.stop()}
        />
      </section>
    </div>
  );
}
