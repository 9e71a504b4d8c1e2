import type { JSX } from 'preact';
import { useSignal } from '../lib/signal.js';
import type { ChatStore } from './chat-store.js';

const LABEL = { connecting: 'Connecting…', online: 'Connected', reconnecting: 'Reconnecting…', offline: 'Disconnected' } as const;

export function ConnectionBadge({ store }: { store: ChatStore }): JSX.Element {
  const state = useSignal(store.conn);
  const detail = useSignal(store.connDetail);
  return (
    <p class={`conn conn-${state}`} role="status" data-state={state} title={detail || undefined}>
      <span class="dot" aria-hidden="true" />
      {LABEL[state]}
      {detail && state !== 'online' && <span class="conn-detail"> — {detail}</span>}
    </p>
  );
}
