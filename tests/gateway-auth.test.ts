import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase } from '@parley/testing';
import { rawSocket, startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
let hs: RunningGateway;
let rs: RunningGateway;
let nested: RunningGateway;
let oidc: RunningGateway;
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

beforeAll(async () => {
  prefix = uniquePrefix('gwauth');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
  hs = await startGateway(prefix, { AUTH_JWT_ISSUER: 'https://idp.test', AUTH_JWT_AUDIENCE: 'parley', AUTH_CLOCK_TOLERANCE_S: '5' });
  rs = await startGateway(prefix, { AUTH_JWT_SECRET: '', AUTH_JWT_PUBLIC_KEY: publicPem, AUTH_JWT_ALGORITHMS: 'RS256' });
  // Keycloak's nesting for roles, Auth0's namespaced (dotted) claim name for the tenant.
  nested = await startGateway(prefix, { AUTH_TENANT_CLAIM: 'https://parley.example.com/tenant', AUTH_ROLES_CLAIM: 'realm_access.roles' });
  // A provider on a loopback address that the operator did not allow: the outbound guard refuses to call it.
  oidc = await startGateway(prefix, {
    AUTH_JWT_SECRET: '',
    AUTH_JWKS_URL: 'https://127.0.0.1:9/jwks',
    OIDC_ISSUER_URL: 'https://127.0.0.1:9',
    OIDC_CLIENT_ID: 'parley-web',
    OIDC_REDIRECT_URL: 'https://chat.example.com/auth/callback',
    OIDC_PROVIDER_NAME: 'Example',
  });
});

afterAll(async () => {
  await Promise.all([hs?.close(), rs?.close(), nested?.close(), oidc?.close()]);
  await services?.stop();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

const good = { iss: 'https://idp.test', aud: 'parley' };

async function wsOutcome(url: string): Promise<'welcome' | number> {
  const s = rawSocket(url);
  const first = await Promise.race([s.closed.then((c) => c.code), new Promise<'welcome'>((resolve) => s.ws.on('message', () => resolve('welcome')))]);
  s.ws.close();
  return first;
}

async function restStatus(gw: RunningGateway, path: string, bearer?: string): Promise<number> {
  const res = await fetch(`${gw.http}${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
  await res.arrayBuffer();
  return res.status;
}

describe('gateway auth', () => {
  test('a valid token is accepted on WS (query) and REST (bearer)', async () => {
    const t = token({ claims: good });
    expect(await wsOutcome(`${hs.ws}?token=${t}`)).toBe('welcome');
    expect(await restStatus(hs, '/api/v1/flows', t)).toBe(200);
  });

  const refused: Array<[string, () => string | undefined]> = [
    ['missing', () => undefined],
    ['expired (beyond the clock tolerance)', () => token({ expiresIn: -60, claims: good })],
    ['wrong signature', () => token({ secret: 'another-secret-0123456789abcdef0123', claims: good })],
    ['alg none', () => token({ alg: 'none', claims: good })],
    ['wrong audience', () => token({ claims: { ...good, aud: 'someone-else' } })],
    ['wrong issuer', () => token({ claims: { ...good, iss: 'https://evil.test' } })],
    ['no tenant claim', () => token({ claims: { ...good, tenant_id: undefined, tenant: 't1' } })],
    ['tenant claim of the wrong type', () => token({ claims: { ...good, tenant_id: 42 } })],
  ];
  test.each(refused)('%s: WS closes 4401, REST answers 401', async (_name, make) => {
    const t = make();
    expect(await wsOutcome(t ? `${hs.ws}?token=${t}` : hs.ws)).toBe(4401);
    expect(await restStatus(hs, '/api/v1/flows', t)).toBe(401);
  });

  test('HS/RS confusion: an HS256 token signed with the RSA public key is refused by the RS256 gateway', async () => {
    const forged = token({ secret: Buffer.from(publicPem) });
    expect(await wsOutcome(`${rs.ws}?token=${forged}`)).toBe(4401);
    expect(await restStatus(rs, '/api/v1/flows', forged)).toBe(401);
    const genuine = token({ alg: 'RS256', rsaKey: privateKey });
    expect(await wsOutcome(`${rs.ws}?token=${genuine}`)).toBe('welcome');
  });

  test('operator routes need the admin role', async () => {
    expect(await restStatus(hs, '/api/v1/stats', token({ claims: good }))).toBe(403);
    expect(await restStatus(hs, '/api/v1/agents', token({ claims: good }))).toBe(403);
    expect(await restStatus(hs, '/api/v1/agents', token({ roles: ['admin'], claims: good }))).toBe(200);
  });

  test('the dev token route is refused unless dev tokens are enabled', async () => {
    const res = await fetch(`${hs.http}/api/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(403);
  });

  test('tokens never reach the logs', async () => {
    // The request log carries the route pattern, never the URL with ?token=.
    const lines: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const t = token({ claims: good });
      await restStatus(hs, `/api/v1/flows?token=${t}`);
      expect(lines.join('')).not.toContain(t);
    } finally {
      process.stdout.write = orig;
    }
  });

  test('tenant and roles from configured claims: a dotted path into nested claims, or a claim whose name has dots', async () => {
    const claims = { 'https://parley.example.com/tenant': 't1', realm_access: { roles: ['admin'] }, tenant_id: undefined };
    expect(await restStatus(nested, '/api/v1/agents', token({ claims }))).toBe(200);
    expect(await restStatus(nested, '/api/v1/agents', token({ claims: { ...claims, realm_access: { roles: ['viewer'] } } }))).toBe(403);
    expect(await nested.gw.ctx.verifier.verify(token({ claims }))).toMatchObject({ tenantId: 't1', roles: ['admin'] });
  });

  test('a token without the tenant claim is refused saying which claim is missing, never given a default tenant', async () => {
    const res = await fetch(`${nested.http}/api/v1/flows`, {
      headers: { authorization: `Bearer ${token({ claims: { realm_access: { roles: ['admin'] } } })}` },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: {
        message: 'invalid token: it has no "https://parley.example.com/tenant" claim naming your tenant; ask your identity provider\'s admin to add it',
        details: { reason: 'claims' },
      },
    });
  });

  test('sign-in settings for the page: OIDC on offer or not, dev tokens, where tenant and roles are', async () => {
    expect(await (await fetch(`${nested.http}/auth/config`)).json()).toEqual({
      oidc: null,
      devTokens: false,
      claims: { tenant: 'https://parley.example.com/tenant', roles: 'realm_access.roles' },
    });
    expect(await (await fetch(`${oidc.http}/auth/config`)).json()).toMatchObject({ oidc: { providerName: 'Example', loginUrl: '/auth/login' } });
    const login = await fetch(`${nested.http}/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(404);
    expect(await login.json()).toMatchObject({ error: { message: 'OIDC sign-in is not configured on this gateway (OIDC_ISSUER_URL)' } });
  });

  test('a provider the outbound guard refuses: sign-in goes back to the page saying it could not be reached', async () => {
    const res = await fetch(`${oidc.http}/auth/login`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://chat.example.com/#/signin?error=unavailable');
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  test('a finished sign-in is taken once, and only with its cookie', async () => {
    const res = await fetch(`${oidc.http}/auth/session`, { method: 'POST', headers: { cookie: 'parley_handoff=not-a-real-handoff-id-0123456789' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { message: 'no finished sign-in to take here; sign in again' } });
  });
});
