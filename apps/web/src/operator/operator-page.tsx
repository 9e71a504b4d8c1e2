import type { JSX } from 'preact';
import { useHandoffFeed, type HandoffFeed } from '../lib/handoff-feed.js';
import { href, type Route } from '../lib/router.js';
import { AgentsPage } from './agents.js';
import { ConversationsPage } from './conversations.js';
import { HandoffsPage } from './handoffs.js';
import { InboxesPage } from './inboxes.js';
import { KnowledgePage } from './knowledge.js';
import { RunsPage } from './runs.js';
import { StatsPage } from './stats.js';
import { TranscriptPage } from './transcript.js';

const TABS = [
  ['conversations', 'Conversations'],
  ['handoffs', 'Handoffs'],
  ['stats', 'Stats'],
  ['runs', 'Runs'],
  ['knowledge', 'Knowledge'],
  ['agents', 'Agents'],
  ['inboxes', 'Inboxes'],
] as const;

/** Pages an operator (staff without the admin role) may use; an admin sees every tab. */
const OPERATOR_TABS = new Set<string>(['handoffs']);

export function OperatorPage({ route, admin }: { route: Route; admin: boolean }): JSX.Element {
  const [, tab = admin ? 'conversations' : 'handoffs', id] = route.parts;
  // Open on every operator page, so the waiting count in the nav stays live wherever the operator is.
  const feed = useHandoffFeed();
  const tabs = TABS.filter(([key]) => admin || OPERATOR_TABS.has(key));
  return (
    <div class="ops">
      <nav class="subnav" aria-label="Operator">
        {tabs.map(([key, label]) => (
          <a key={key} href={href(`/ops/${key}`)} aria-current={tab === key ? 'page' : undefined}>
            {label}
            {key === 'handoffs' && feed.waiting > 0 && (
              <span class="count" data-testid="waiting-count" aria-label={`${feed.waiting} waiting`}>
                {feed.waiting}
              </span>
            )}
          </a>
        ))}
      </nav>
      <div class="ops-body">{admin || OPERATOR_TABS.has(tab) ? page(tab, id, route, feed) : <p role="alert">This page needs the admin role.</p>}</div>
    </div>
  );
}

function page(tab: string, id: string | undefined, route: Route, feed: HandoffFeed): JSX.Element {
  switch (tab) {
    case 'handoffs':
      return <HandoffsPage feed={feed} conversationId={id ?? null} />;
    case 'stats':
      return <StatsPage />;
    case 'runs':
      return <RunsPage runId={id ?? null} />;
    case 'knowledge':
      return <KnowledgePage />;
    case 'agents':
      return <AgentsPage />;
    case 'inboxes':
      return <InboxesPage />;
    case 'conversations':
      return id ? <TranscriptPage conversationId={id} /> : <ConversationsPage params={route.params} />;
    default:
      // An unknown page says so instead of showing another one under its address.
      return (
        <p role="alert" class="error">
          There is no operator page “{tab}”. Pick one above.
        </p>
      );
  }
}
