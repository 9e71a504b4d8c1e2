/**
 * Sign-in routes, public by nature (the caller has no token yet):
 *
 * - GET /auth/config: what the sign-in page offers (OIDC, dev tokens) and where the token's tenant
 *   and roles are, so the page reads them as the gateway does;
 * - GET /auth/login → the provider's authorization page (code flow + PKCE), binding the sign-in to
 *   this browser with an HttpOnly cookie holding its state (a callback URL replayed in another
 *   browser, or a forged one, fails the state check: no login CSRF);
 * - GET /auth/callback ← the provider: code exchange here, the token verified as every API call
 *   verifies it, then handed to the page through a one-time id in an HttpOnly cookie;
 * - POST /auth/session: the page takes the token (once).
 *
 * The code flow runs in the gateway (a backend-for-frontend) rather than in the page: the client
 * secret (when the provider requires one) stays server-side, the provider needs no CORS for the
 * page, the page's CSP stays `connect-src 'self'`, and tokens never travel in a URL.
 *
 * Every failure sends the browser back to the sign-in page with a reason code
 * (`#/signin?error=…`) the page words; the detail is logged, never a token.
 */
import cookie from '@fastify/cookie';
import { OutboundGuard, OutboundRefused } from '@parley/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { refuse } from '../rest/errors.js';
import { doc } from '../rest/openapi.js';
import { z } from 'zod';
import { AuthorizationResponseError } from 'openid-client';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../env.js';
import { OidcClient } from './oidc-client.js';
import { PENDING_TTL_S, HANDOFF_TTL_S, type SignInStore } from './sign-in-store.js';
import { AuthError, type Verifier } from './verifier.js';

/** Why a sign-in failed, as the page is told (`#/signin?error=<reason>`). */
export type SignInFailure = 'state' | 'denied' | 'provider' | 'unavailable' | 'claims' | 'token';

const PENDING_COOKIE = 'parley_signin';
const HANDOFF_COOKIE = 'parley_handoff';
const ID = /^[A-Za-z0-9_-]{16,128}$/;

export interface SignInDeps {
  config: GatewayConfig;
  mode: 'dev' | 'production';
  verifier: Verifier;
  store: SignInStore;
  log: Logger;
}

const AuthConfig = z.object({
  oidc: z.object({ providerName: z.string(), loginUrl: z.string() }).nullable(),
  devTokens: z.boolean(),
  claims: z.object({ tenant: z.string(), roles: z.string() }),
});
/** Browser navigations: the answer is a redirect, to the provider or back to the page (`#/signin?error=<reason>` on failure). */
const REDIRECT = {
  response: 302,
  reply: null,
  replyDescription: 'To the provider (login) or back to the web UI (callback: 303)',
  also: { 303: { description: 'Back to the web UI', reply: null } },
};

export async function registerSignInRoutes(app: FastifyInstance, deps: SignInDeps): Promise<{ close(): void }> {
  const { config, mode, verifier, store, log } = deps;
  const { auth } = config;
  await app.register(cookie);
  const guard = new OutboundGuard(config.outbound);
  const oidc = auth.oidc ? new OidcClient(auth.oidc, guard) : undefined;
  const redirect = auth.oidc ? new URL(auth.oidc.redirectUrl) : undefined;
  // Where the page lives, and the cookies' path, as the browser sees them through any proxy.
  const appUrl = redirect ? new URL('../', redirect).href : '/';
  const cookiePath = redirect ? new URL('./', redirect).pathname : '/auth/';
  const secure = redirect?.protocol === 'https:';
  const cookieOpts = { httpOnly: true, sameSite: 'lax', path: cookiePath, secure } as const;
  const notConfigured = (reply: FastifyReply) =>
    refuse(reply, 404, { code: 'not_found', message: 'OIDC sign-in is not configured on this gateway (OIDC_ISSUER_URL)', retryable: false });
  const back = (reply: FastifyReply, reason: SignInFailure) => reply.header('cache-control', 'no-store').redirect(`${appUrl}#/signin?error=${reason}`, 303);

  app.get('/auth/config', { schema: doc('auth', 'What the sign-in page offers', { operationId: 'getAuthConfig', reply: AuthConfig }) }, async () => ({
    oidc: auth.oidc ? { providerName: auth.oidc.providerName, loginUrl: `${cookiePath}login` } : null,
    devTokens: mode === 'dev' && auth.devTokens && auth.secret !== undefined,
    claims: { tenant: auth.tenantClaim, roles: auth.rolesClaim },
  }));

  app.get(
    '/auth/login',
    { schema: doc('auth', 'Start OIDC sign-in (redirects to the provider)', { operationId: 'startSignIn', ...REDIRECT, errors: [404] }) },
    async (_req, reply) => {
      if (!oidc) return notConfigured(reply);
      let started: Awaited<ReturnType<OidcClient['start']>>;
      try {
        started = await oidc.start();
      } catch (err) {
        log.error({ err: describe(err), issuer: oidc.config.issuerUrl }, 'OIDC sign-in could not start: the provider did not answer discovery');
        return back(reply, 'unavailable');
      }
      await store.savePending(started.pending);
      return reply
        .setCookie(PENDING_COOKIE, started.pending.state, { ...cookieOpts, maxAge: PENDING_TTL_S })
        .header('cache-control', 'no-store')
        .redirect(started.url.href, 302);
    },
  );

  app.get(
    '/auth/callback',
    { schema: doc('auth', 'The provider sends the browser back here', { operationId: 'finishSignIn', ...REDIRECT, errors: [404] }) },
    async (req, reply) => {
      if (!oidc) return notConfigured(reply);
      const query = new URL(req.url, 'http://callback').search;
      const state = new URLSearchParams(query).get('state');
      const bound = req.cookies[PENDING_COOKIE];
      reply.clearCookie(PENDING_COOKIE, cookieOpts);
      // The state must be the one this browser started with, and still pending (taken once).
      const pending = state && bound === state && ID.test(state) ? await store.takePending(state) : null;
      if (!pending) {
        log.warn({ reason: 'state', hasCookie: bound !== undefined }, 'OIDC callback refused: its state is not a sign-in this browser started (or it expired)');
        return back(reply, 'state');
      }
      let bearer: string;
      try {
        bearer = await oidc.finish(query, pending);
      } catch (err) {
        const reason = failureOf(err);
        log.warn({ reason, err: describe(err) }, 'OIDC callback refused');
        return back(reply, reason);
      }
      // The page will use this token on every call: refuse it here, with a reason, if the API would.
      try {
        await verifier.verify(bearer);
      } catch (err) {
        const reason: SignInFailure = err instanceof AuthError && err.reason === 'claims' ? 'claims' : 'token';
        log.warn({ reason, err: describe(err) }, "OIDC sign-in refused: the provider's token does not pass the gateway's checks");
        return back(reply, reason);
      }
      const id = await store.saveHandoff(bearer);
      return reply
        .setCookie(HANDOFF_COOKIE, id, { ...cookieOpts, maxAge: HANDOFF_TTL_S })
        .header('cache-control', 'no-store')
        .redirect(`${appUrl}#/signin?done=1`, 303);
    },
  );

  app.post(
    '/auth/session',
    {
      schema: doc('auth', 'Take the token of a finished sign-in (once)', {
        operationId: 'takeSignInToken',
        description: 'Reads the HttpOnly hand-off cookie /auth/callback set; 401 when there is none (or it was taken).',
        reply: z.object({ token: z.string() }),
        errors: [401],
      }),
    },
    async (req, reply) => {
      const id = req.cookies[HANDOFF_COOKIE];
      reply.clearCookie(HANDOFF_COOKIE, cookieOpts).header('cache-control', 'no-store');
      const token = id && ID.test(id) ? await store.takeHandoff(id) : null;
      if (!token) {
        return refuse(reply, 401, { code: 'unauthorized', message: 'no finished sign-in to take here; sign in again', retryable: false });
      }
      return { token };
    },
  );

  return { close: () => guard.close() };
}

/** The provider refused (the user declined), did not answer, or answered what does not check out (code, nonce, issuer, …). */
function failureOf(err: unknown): SignInFailure {
  if (err instanceof AuthorizationResponseError) return 'denied';
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e instanceof OutboundRefused || /^E[A-Z]+$/.test(String((e as { code?: unknown }).code)) || /did not answer within/.test(e.message))
      return 'unavailable';
  }
  return 'provider';
}

/** An error for a log line: name, message, code; openid-client's messages carry no token. */
function describe(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const cause = (err as { cause?: unknown }).cause;
  return { name: err.name, message: err.message, code: (err as { code?: unknown }).code, cause: cause instanceof Error ? cause.message : undefined };
}
