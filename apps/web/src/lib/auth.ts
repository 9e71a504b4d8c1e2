/**
 * The signed-in user: a bearer token kept in localStorage (so a reload stays signed in) and the
 * claims read from it for display only — the gateway verifies every request itself.
 */
import { signal } from './signal.js';

const KEY = 'parley.token';

export interface Session {
  token: string;
  userId: string;
  tenantId: string;
  roles: string[];
  /** Unix seconds, when the token says. */
  exp: number | null;
}

export const session = signal<Session | null>(load());

export function signIn(token: string): Session {
  const s = fromToken(token.trim());
  localStorage.setItem(KEY, s.token);
  signedOutBecause.set(null);
  session.set(s);
  return s;
}

/** Why the user was signed out without asking, shown on the sign-in page. */
export const signedOutBecause = signal<string | null>(null);

/**
 * `token`: sign out only if that token is still the signed-in one. A 401 or a 4401 close is an
 * answer to one session; arriving after that session ended (the user signed out, or the other
 * path already signed out) it must neither replace the reason shown nor end a newer session.
 */
export function signOut(reason?: string, token?: string): void {
  if (token !== undefined && session.get()?.token !== token) return;
  localStorage.removeItem(KEY);
  signedOutBecause.set(reason ?? null);
  session.set(null);
}

export const isAdmin = (s: Session | null) => !!s?.roles.includes('admin');

/** Dev mode only: the gateway mints a token (403 outside dev mode, with a message that says so). */
export async function devSignIn(userId: string, admin: boolean): Promise<Session> {
  const res = await fetch('/api/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, roles: admin ? ['admin'] : [] }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; message?: string };
  if (!res.ok || !body.token) throw new Error(body.message ?? `the gateway answered ${res.status}`);
  return signIn(body.token);
}

function load(): Session | null {
  const t = localStorage.getItem(KEY);
  if (!t) return null;
  try {
    const s = fromToken(t);
    return s.exp !== null && s.exp * 1000 < Date.now() ? null : s;
  } catch {
    return null;
  }
}

function fromToken(token: string): Session {
  const part = token.split('.')[1];
  if (!part) throw new Error('this is not a JWT (expected three dot-separated parts)');
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
  } catch {
    throw new Error('the token payload is not readable JSON');
  }
  const roles = claims['roles'];
  return {
    token,
    userId: String(claims['sub'] ?? 'unknown'),
    tenantId: String(claims['tenant_id'] ?? claims['tenant'] ?? ''),
    roles: Array.isArray(roles) ? roles.map(String) : typeof roles === 'string' ? roles.split(/[\s,]+/).filter(Boolean) : [],
    exp: typeof claims['exp'] === 'number' ? claims['exp'] : null,
  };
}
