import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { devSignIn, signedOutBecause, signIn } from './lib/auth.js';
import { useSignal } from './lib/signal.js';

export function SignIn(): JSX.Element {
  const [userId, setUserId] = useState('dev-user');
  const [admin, setAdmin] = useState(true);
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const why = useSignal(signedOutBecause);

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

  return (
    <main class="signin">
      <h1>Parley</h1>
      <p class="muted">Sign in to chat with your agents.</p>
      {why && (
        <p role="alert" class="error">
          {why}
        </p>
      )}
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
      <form onSubmit={paste} class="card" aria-labelledby="tok-h">
        <h2 id="tok-h">Use a token</h2>
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
