/**
 * The signed-in user: a bearer token kept in localStorage (so a reload stays signed in) and the
 * claims read from it for display only — the gateway verifies every request itself.
 */
import { signal } from './signal.js';
import { claimAt, rolesIn } from '@parley/contracts/claims';

const KEY = 'parley.token';
/** Where the gateway finds tenant and roles in a token (GET /auth/config), kept so a reload reads them alike. */
const CLAIMS_KEY = 'parley.claims';

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
/** Staff: admin or operator (the gateway's rule for the hand-off desk). */
export const isStaff = (s: Session | null) => isAdmin(s) || !!s?.roles.includes('operator');

/** Dev mode only: the gateway mints a token (403 outside dev mode, with a message that says so). */
export async function devSignIn(userId: string, admin: boolean): Promise<Session> {
  const res = await fetch('/api/v1/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, roles: admin ? ['admin'] : [] }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `the gateway answered ${res.status}`);
  return signIn(body.token);
}

/** What the gateway's sign-in offers (GET /auth/config). */
export interface AuthConfig {
  oidc: { providerName: string; loginUrl: string } | null;
  devTokens: boolean;
  claims: ClaimPaths;
}

interface ClaimPaths {
  tenant: string;
  roles: string;
}

export async function fetchAuthConfig(): Promise<AuthConfig> {
  const res = await fetch('/auth/config');
  if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
  const config = (await res.json()) as AuthConfig;
  localStorage.setItem(CLAIMS_KEY, JSON.stringify(config.claims));
  return config;
}

/**
 * The end of an OIDC sign-in: the gateway finished the code exchange and holds the token for this
 * browser (an HttpOnly cookie names it); take it, once.
 */
export async function takeOidcSession(): Promise<Session> {
  const res = await fetch('/auth/session', { method: 'POST' });
  const body = (await res.json().catch(() => ({}))) as { token?: string; error?: { message?: string } };
  if (!res.ok || !body.token) throw new Error(body.error?.message ?? `the gateway answered ${res.status}`);
  return signIn(body.token);
}

function claimPaths(): ClaimPaths {
  try {
    const stored = JSON.parse(localStorage.getItem(CLAIMS_KEY) ?? 'null') as Partial<ClaimPaths> | null;
    return { tenant: stored?.tenant ?? 'tenant_id', roles: stored?.roles ?? 'roles' };
  } catch {
    return { tenant: 'tenant_id', roles: 'roles' };
  }
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
    // UTF-8: an identity provider's claims carry names in any script.
    const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new Error('the token payload is not readable JSON');
  }
  const paths = claimPaths();
  const roles = claimAt(claims, paths.roles);
  const tenant = claimAt(claims, paths.tenant);
  return {
    token,
    userId: String(claims['sub'] ?? 'unknown'),
    tenantId: typeof tenant === 'string' ? tenant : '',
    roles: rolesIn(roles),
    exp: typeof claims['exp'] === 'number' ? claims['exp'] : null,
  };
}
