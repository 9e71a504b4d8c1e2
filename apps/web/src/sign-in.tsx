import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { devSignIn, fetchAuthConfig, signedOutBecause, signIn, takeOidcSession, type AuthConfig } from './lib/auth.js';
import { navigate, useRoute } from './lib/router.js';
import { useAsync } from './lib/use-async.js';
import { useSignal } from './lib/signal.js';

/** The gateway's reasons (`#/signin?error=…`, apps/gateway/src/auth/sign-in-routes.ts), in words. */
function failureText(reason: string, config: AuthConfig | null): string {
  const provider = config?.oidc?.providerName ?? 'The identity provider';
  switch (reason) {
    case 'state':
      return 'That sign-in was not started in this browser, or it took longer than 10 minutes. Sign in again.';
    case 'denied':
      return `${provider} did not sign you in (the sign-in was declined or cancelled).`;
    case 'provider':
      return `${provider}'s answer did not check out, so you were not signed in. Sign in again; if it keeps happening, tell your administrator.`;
    case 'unavailable':
      return `${provider} could not be reached. Try again in a moment.`;
    case 'claims':
      return `Your account at ${provider} names no tenant (claim "${config?.claims.tenant ?? 'tenant_id'}"), so Parley cannot tell which team you belong to. Ask your administrator to add it.`;
    case 'token':
      return `This gateway does not accept ${provider}'s token (its issuer, audience or keys differ from the gateway's configuration). Tell your administrator.`;
    default:
      return 'Sign-in failed. Sign in again.';
  }
}

export function SignIn(): JSX.Element {
  const [userId, setUserId] = useState('dev-user');
  const [admin, setAdmin] = useState(true);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const why = useSignal(signedOutBecause);
  const route = useRoute();
  const config = useAsync(fetchAuthConfig, []);
  const finishing = route.parts[0] === 'signin' && route.params.get('done') === '1';
  const failure = route.parts[0] === 'signin' ? route.params.get('error') : null;

  // Back from the provider: the gateway holds the token for this browser; take it once (App then opens the chat).
  useEffect(() => {
    if (!finishing) return;
    takeOidcSession().then(
      () => undefined,
      (err: Error) => {
        setError(`Sign-in could not be finished: ${err.message}`);
        navigate('/signin', true);
      },
    );
  }, [finishing]);

  const dev = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await devSignIn(userId.trim() || 'dev-user', admin);
    } catch (err) {
      setError(`Dev sign-in failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const paste = (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      signIn(token);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  if (finishing) {
    return (
      <main class="signin">
        <h1>Parley</h1>
        <p class="muted" role="status">
          Finishing sign-in…
        </p>
      </main>
    );
  }
  const oidc = config.data?.oidc;
  return (
    <main class="signin">
      <h1>Parley</h1>
      <p class="muted">Sign in to chat with your agents.</p>
      {(why ?? failure) && (
        <p role="alert" class="error">
          {why ?? failureText(failure ?? '', config.data)}
        </p>
      )}
      {config.error && (
        <p role="alert" class="error">
          The gateway's sign-in settings could not be read ({config.error.message}).
        </p>
      )}
      {oidc && (
        <section class="card" aria-labelledby="oidc-h">
          <h2 id="oidc-h">Your organisation's account</h2>
          <button type="button" onClick={() => location.assign(oidc.loginUrl)}>
            Sign in with {oidc.providerName}
          </button>
        </section>
      )}
      {config.data?.devTokens && (
        <form onSubmit={(e) => void dev(e)} class="card" aria-labelledby="dev-h">
          <h2 id="dev-h">Development sign-in</h2>
          <p class="muted">
            Works when the gateway runs in dev mode with dev tokens enabled (as <code>npm start</code> does).
          </p>
          <label>
            User id
            <input name="userId" value={userId} onInput={(e) => setUserId(e.currentTarget.value)} autocomplete="username" />
          </label>
          <label class="check">
            <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> Operator (admin role)
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in with a dev token'}
          </button>
        </form>
      )}
      <form onSubmit={paste} class="card" aria-labelledby="tok-h">
        <h2 id="tok-h">Use a token</h2>
        <p class="muted">
          One your administrator gave you, e.g. from <code>npm run token</code>.
        </p>
        <label>
          Bearer token (JWT)
          <textarea name="token" rows={3} value={token} onInput={(e) => setToken(e.currentTarget.value)} spellcheck={false} />
        </label>
        <button type="submit" disabled={!token.trim()}>
          Sign in
        </button>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </main>
  );
}
