/**
 * A real OpenID Connect provider for tests (`oidc-provider`, the certified server implementation), on
 * a loopback port in the test's process: discovery, its key set, the authorization endpoint with its
 * own login and consent pages (devInteractions: any password), and the token endpoint. One
 * confidential client (PKCE required) and the users the test names, whose claims it chooses.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export interface TestIdp {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  clientSecret: string;
  /** The provider's signing key (RS256), so a test can forge tokens with the right key but wrong claims. */
  privateKey: KeyObject;
  kid: string;
  close(): Promise<void>;
}

export interface TestIdpOptions {
  redirectUris: string[];
  /** Login name → the claims of that account (besides `sub`, which is the login). */
  users: Record<string, Record<string, unknown>>;
  /** Claims released with the `parley` scope (in the ID token). */
  parleyClaims: string[];
}

export async function startTestIdp(opts: TestIdpOptions): Promise<TestIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomBytes(4).toString('hex')}`;
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const clientId = 'parley-web';
  const clientSecret = randomBytes(24).toString('base64url');

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['openid', 'profile', 'parley'],
    claims: { openid: ['sub'], profile: ['name'], parley: opts.parleyClaims },
    // Scope claims go into the ID token too (the gateway uses the ID token as the bearer).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    findAccount: (_ctx, id) => {
      const claims = opts.users[id];
      if (!claims) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...claims }) };
    },
  });
  const handle = provider.callback();
  server.on('request', (req, res) => void handle(req, res));

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    clientId,
    clientSecret,
    privateKey,
    kid,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
