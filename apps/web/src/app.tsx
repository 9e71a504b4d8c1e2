import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { isAdmin, isStaff, session, signOut } from './lib/auth.js';
import { href, navigate, useRoute } from './lib/router.js';
import { useSignal } from './lib/signal.js';
import { ChatPage } from './chat/chat-page.js';
import { FlowsPage } from './flows/flows-page.js';
import { DocumentPage } from './knowledge/document-page.js';
import { OperatorPage } from './operator/operator-page.js';
import { SignIn } from './sign-in.js';

export function App(): JSX.Element {
  const s = useSignal(session);
  const route = useRoute();
  const onSignInPage = route.parts[0] === 'signin';
  // Signed in while on the sign-in page (back from the identity provider, or a retry after its error).
  useEffect(() => {
    if (s && onSignInPage) navigate('/chat', true);
  }, [s, onSignInPage]);
  if (!s) return <SignIn />;
  const [section = 'chat'] = route.parts;
  const admin = isAdmin(s);
  const staff = isStaff(s);
  document.title = `${section === 'ops' ? `Operator · ${route.parts[1] ?? 'conversations'}` : section === 'flows' ? 'Flows' : section === 'knowledge' ? 'Knowledge' : 'Chat'} · Parley`;
  const link = (to: string, label: string, active: boolean) => (
    <a href={href(to)} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href('/chat')}>
          Parley
        </a>
        <nav aria-label="Main">
          {link('/chat', 'Chat', section === 'chat')}
          {link('/flows', 'Flows', section === 'flows')}
          {staff && link(admin ? '/ops/conversations' : '/ops/handoffs', 'Operator', section === 'ops')}
        </nav>
        <div class="who">
          <span title={`tenant ${s.tenantId}`}>{s.userId}</span>
          <button type="button" class="link" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {section === 'flows' ? (
          <FlowsPage />
        ) : section === 'knowledge' && route.parts[1] ? (
          <DocumentPage documentId={route.parts[1]} chunk={chunkParam(route.params.get('chunk'))} />
        ) : section === 'ops' ? (
          staff ? (
            <OperatorPage route={route} admin={admin} />
          ) : (
            <p role="alert">The operator pages need the admin or operator role.</p>
          )
        ) : (
          <ChatPage session={s} conversationId={section === 'chat' ? route.parts[1] : undefined} agent={route.params.get('agent') ?? undefined} />
        )}
      </main>
    </div>
  );
}

/** `?chunk=<n>` of a citation link; anything else marks no passage. */
function chunkParam(raw: string | null): number | undefined {
  return raw !== null && /^\d{1,6}$/.test(raw) ? Number(raw) : undefined;
}
