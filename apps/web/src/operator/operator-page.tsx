import type { JSX } from 'preact';
import { href, type Route } from '../lib/router.js';
import { AgentsPage } from './agents.js';
import { ConversationsPage } from './conversations.js';
import { InboxesPage } from './inboxes.js';
import { KnowledgePage } from './knowledge.js';
import { RunsPage } from './runs.js';
import { StatsPage } from './stats.js';
import { TranscriptPage } from './transcript.js';

const TABS = [
  ['conversations', 'Conversations'],
  ['stats', 'Stats'],
  ['runs', 'Runs'],
  ['knowledge', 'Knowledge'],
  ['agents', 'Agents'],
  ['inboxes', 'Inboxes'],
] as const;

export function OperatorPage({ route }: { route: Route }): JSX.Element {
  const [, tab = 'conversations', id] = route.parts;
  return (
    <div class="ops">
      <nav class="subnav" aria-label="Operator">
        {TABS.map(([key, label]) => (
          <a key={key} href={href(`/ops/${key}`)} aria-current={tab === key ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <div class="ops-body">{page(tab, id, route)}</div>
    </div>
  );
}

function page(tab: string, id: string | undefined, route: Route): JSX.Element {
  switch (tab) {
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
