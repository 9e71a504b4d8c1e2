/**
 * The gateway's side of OpenID Connect sign-in, with openid-client (panva's certified relying-party
 * library: discovery, PKCE, state and nonce checks, ID token claim validation): the authorization
 * URL for a new sign-in, and the code exchange when the provider sends the browser back.
 *
 * Every request to the provider (discovery, token endpoint) goes through the OutboundGuard, so the
 * issuer is reached only at a public address unless the operator allow-listed its host; plain http
 * is accepted only for such an allow-listed host (env.ts refuses it otherwise).
 */
import * as client from 'openid-client';
import type { OutboundGuard } from '@parley/service-kit';
import type { OidcConfig } from './oidc-config.js';

/** What a sign-in keeps between leaving for the provider and coming back: its PKCE and replay checks. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export class OidcClient {
  private discovered: Promise<client.Configuration> | undefined;

  constructor(
    readonly config: OidcConfig,
    private readonly guard: OutboundGuard,
    private readonly timeoutMs = 10_000,
  ) {}

  /** A new sign-in: where to send the browser, and the checks to keep until it comes back. */
  async start(): Promise<{ url: URL; pending: PendingSignIn }> {
    const configuration = await this.configuration();
    const pending: PendingSignIn = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.config.redirectUrl,
      scope: this.config.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /**
   * The provider's answer at the callback (its query string), checked against the pending sign-in:
   * state, PKCE verifier, the ID token's nonce, issuer and audience. Returns the token the browser
   * is to use as its bearer (OIDC_TOKEN).
   */
  async finish(callbackQuery: string, pending: PendingSignIn): Promise<string> {
    const configuration = await this.configuration();
    // The URL the provider redirected to, as registered: openid-client derives redirect_uri from it,
    // so it must not be the gateway's own view of the request (a proxy may change host or scheme).
    const current = new URL(this.config.redirectUrl);
    current.search = callbackQuery;
    const tokens = await client.authorizationCodeGrant(configuration, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const bearer = this.config.bearer === 'id_token' ? tokens.id_token : tokens.access_token;
    if (!bearer) throw new client.ClientError(`the provider's answer has no ${this.config.bearer}`);
    return bearer;
  }

  /** Discovery once, on first use; a failure is not kept, so the next sign-in tries again. */
  private configuration(): Promise<client.Configuration> {
    this.discovered ??= client
      .discovery(new URL(this.config.issuerUrl), this.config.clientId, this.config.clientSecret, this.config.clientSecret ? undefined : client.None(), {
        [client.customFetch]: this.guardedFetch,
        execute: new URL(this.config.issuerUrl).protocol === 'http:' ? [client.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        this.discovered = undefined;
        throw err;
      });
    return this.discovered;
  }

  /** fetch for openid-client, through the OutboundGuard (which follows no redirect, as openid-client asks). */
  private readonly guardedFetch: client.CustomFetch = async (url, options) => {
    const body = options.body;
    const res = await this.guard.request(url, {
      method: options.method,
      headers: options.headers,
      timeoutMs: this.timeoutMs,
      ...(body === undefined || body === null
        ? {}
        : { body: typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : bodyText(body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const empty = res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(empty ? null : res.body, { status: res.status, headers });
  };
}

function bodyText(body: ArrayBuffer | Uint8Array | ReadableStream): string {
  if (body instanceof ReadableStream) throw new client.ClientError('a streamed request body is not supported');
  return Buffer.from(body instanceof ArrayBuffer ? new Uint8Array(body) : body).toString('utf8');
}
