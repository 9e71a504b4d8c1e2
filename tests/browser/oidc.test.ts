/**
 * OpenID Connect sign-in end to end: a real provider (oidc-provider) on loopback, the platform
 * behind a gateway configured for it (no dev tokens), and chromium clicking through the provider's
 * own login and consent pages.
 */
import { createServer } from 'node:net';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { newRedis } from '@parley/testing';
import type { BrowserContext, Page } from '../../apps/web/test-support/browser.js';
import { startTestIdp, type TestIdp } from '../support/test-idp.js';
import { rawSocket } from '../support/gateway-env.js';
import { ARTIFACTS, useBrowserStack } from './support/browser-stack.js';
import { conversationShown, finished, send } from './support/ui.js';

let idp: TestIdp | undefined;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

const env = useBrowserStack('oidc', {
  async gateway() {
    const port = await freePort();
    idp = await startTestIdp({
      redirectUris: [`http://127.0.0.1:${port}/auth/callback`],
      parleyClaims: ['tenant_id', 'realm_access'],
      users: {
        alice: { name: 'Alice', tenant_id: 'acme', realm_access: { roles: ['admin'] } },
        bob: { name: 'Bob', tenant_id: 'acme', realm_access: { roles: [] } },
        // An account the provider has not mapped to a tenant.
        nomad: { name: 'Nomad', realm_access: { roles: ['admin'] } },
      },
    });
    return {
      HTTP_PORT: String(port),
      AUTH_JWT_SECRET: '',
      AUTH_DEV_TOKENS: 'false',
      AUTH_JWKS_URL: idp.jwksUrl,
      AUTH_ROLES_CLAIM: 'realm_access.roles',
      OIDC_ISSUER_URL: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_REDIRECT_URL: `http://127.0.0.1:${port}/auth/callback`,
      OIDC_SCOPES: 'openid,profile,parley',
      OIDC_PROVIDER_NAME: 'Test IdP',
      // The provider is on this machine: the operator allows it (plain http too) by name.
      OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    };
  },
});

afterAll(async () => {
  await idp?.close();
});

/** A fresh context that reaches nothing but this machine (the provider's page links a web font). */
async function freshPage(): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await env.chrome.browser.newContext({ viewport: { width: 1280, height: 860 } });
  await ctx.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  return { ctx, page: await ctx.newPage() };
}

/** From the sign-in page through the provider's login (and consent) pages, as `login`. */
async function signInAtProvider(page: Page, login: string, before?: () => Promise<void>): Promise<void> {
  await page.goto(env.stack.url);
  await page.getByRole('button', { name: 'Sign in with Test IdP' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${idp?.issuer}/interaction/`), { timeout: 30_000 });
  await before?.();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  // First sign-in of this account in this browser: the provider asks for consent.
  const consent = page.getByRole('button', { name: 'Continue' });
  await page.waitForURL((u) => u.href.startsWith(env.stack.url) || u.href.includes('/interaction/'), { timeout: 30_000 });
  if (page.url().includes('/interaction/')) {
    await consent.click();
  }
  await page.waitForURL((u) => u.href.startsWith(env.stack.url), { timeout: 30_000 });
}

const alertText = (page: Page) => page.getByRole('alert').first().innerText({ timeout: 30_000 });

/** An RS256 token with the provider's key id, signed by `key`, with these claims (sub alice, 10 min). */
function forge(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid, typ: 'JWT' })}.${b64({ sub: 'alice', iat: now, exp: now + 600, ...claims })}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

async function restStatus(token: string): Promise<number> {
  const res = await fetch(`${env.stack.url}/api/v1/flows`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.status;
}

async function wsCloseCode(token: string): Promise<number | 'welcome'> {
  const s = rawSocket(`${env.stack.url.replace('http', 'ws')}/ws/chat?token=${token}`);
  const first = await Promise.race([s.closed.then((c) => c.code), new Promise<'welcome'>((resolve) => s.ws.on('message', () => resolve('welcome')))]);
  s.ws.close();
  return first;
}

describe('OIDC sign-in in a real browser against a real provider', () => {
  test('sign in at the provider, land in the chat as that user and tenant, get an answer', async () => {
    const { ctx, page } = await freshPage();
    await page.goto(env.stack.url);
    await expect.poll(() => page.getByRole('button', { name: 'Sign in with Test IdP' }).count(), { timeout: 30_000 }).toBe(1);
    // AUTH_DEV_TOKENS is off: no dev sign-in on offer.
    expect(await page.getByRole('button', { name: 'Sign in with a dev token' }).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}web-oidc-signin.png` });

    await signInAtProvider(page, 'alice');
    await conversationShown(page);
    expect(await page.locator('.who span').innerText()).toBe('alice');
    expect(await page.locator('.who span').getAttribute('title')).toBe('tenant acme');
    // The roles came from the nested claim realm_access.roles: alice is an admin.
    expect(await page.getByRole('link', { name: 'Operator' }).count()).toBe(1);
    // The token never travelled in a URL: nothing of it in the address or the history entry.
    const token = await page.evaluate(() => localStorage.getItem('parley.token'));
    expect(token).toBeTruthy();
    expect(page.url()).not.toContain(token!.slice(0, 20));

    const answer = await send(page, 'hello from an OIDC user');
    await finished(answer).toBe('done');
    expect(await answer.locator('.bubble').innerText()).not.toBe('');
    await page.screenshot({ path: `${ARTIFACTS}web-oidc-chat.png` });

    // The bearer is the provider's own ID token, verified by the gateway against the provider's JWKS.
    const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: idp!.issuer, aud: idp!.clientId, sub: 'alice', tenant_id: 'acme' });
    expect(await restStatus(token!)).toBe(200);
    expect(await wsCloseCode(token!)).toBe('welcome');
    await ctx.close();
  }, 120_000);

  test('a plain user of the same provider is signed in without staff rights', async () => {
    const { ctx, page } = await freshPage();
    await signInAtProvider(page, 'bob');
    await conversationShown(page);
    expect(await page.locator('.who span').innerText()).toBe('bob');
    expect(await page.getByRole('link', { name: 'Operator' }).count()).toBe(0);
    await ctx.close();
  }, 90_000);

  test('an account without a tenant claim is refused with a clear message, never put in a default tenant', async () => {
    const { ctx, page } = await freshPage();
    await signInAtProvider(page, 'nomad');
    expect(await alertText(page)).toContain('names no tenant (claim "tenant_id")');
    expect(await page.evaluate(() => localStorage.getItem('parley.token'))).toBeNull();
    await ctx.close();
  }, 90_000);

  test('a callback with a state this browser did not start is refused', async () => {
    const { ctx, page } = await freshPage();
    await page.goto(`${env.stack.url}/auth/callback?code=stolen-code&state=${'s'.repeat(43)}`);
    expect(await alertText(page)).toContain('not started in this browser');
    expect(await page.evaluate(() => localStorage.getItem('parley.token'))).toBeNull();
    await ctx.close();
  }, 60_000);

  test('an ID token whose nonce is not the one this sign-in sent is refused', async () => {
    const { ctx, page } = await freshPage();
    await signInAtProvider(page, 'alice', async () => {
      // While the user is at the provider: the pending sign-in's nonce no longer matches what the provider will sign.
      const state = (await ctx.cookies(`${env.stack.url}/auth/callback`)).find((c) => c.name === 'parley_signin')?.value;
      expect(state).toBeTruthy();
      const redis = newRedis();
      const key = `${env.stack.prefix}:auth:pending:${state}`;
      const pending = JSON.parse((await redis.get(key)) ?? 'null') as Record<string, string>;
      await redis.set(key, JSON.stringify({ ...pending, nonce: 'not-the-nonce-that-was-sent' }), 'EX', 600);
      redis.disconnect();
    });
    expect(await alertText(page)).toContain('answer did not check out');
    expect(await page.evaluate(() => localStorage.getItem('parley.token'))).toBeNull();
    await ctx.close();
  }, 90_000);

  test('a token of another issuer, or signed by another key, is refused by REST and the socket', async () => {
    const provider = idp!;
    const good = { iss: provider.issuer, aud: provider.clientId, tenant_id: 'acme', realm_access: { roles: ['admin'] } };
    // Control: the provider's key and claims are accepted, so the refusals below are for what differs.
    expect(await restStatus(forge(provider.privateKey, provider.kid, good))).toBe(200);
    const otherIssuer = forge(provider.privateKey, provider.kid, { ...good, iss: 'http://127.0.0.1:1/another-issuer' });
    const otherKey = forge(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, provider.kid, good);
    const otherAudience = forge(provider.privateKey, provider.kid, { ...good, aud: 'another-client' });
    for (const t of [otherIssuer, otherKey, otherAudience]) {
      expect(await restStatus(t)).toBe(401);
      expect(await wsCloseCode(t)).toBe(4401);
    }
  }, 60_000);
});
