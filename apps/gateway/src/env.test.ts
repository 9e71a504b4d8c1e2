import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { env } from './env.js';

const AUTH = { AUTH_JWT_SECRET: 'x'.repeat(40) };

function problems(vars: Record<string, string>): string[] {
  const parsed = env.parse('gateway', { ...AUTH, ...vars });
  return parsed.ok ? [] : parsed.problems;
}

describe('one run lists every problem', () => {
  test("a variable's own problem and the rules across variables come together", () => {
    const p = problems({ PARLEY_MODE: 'production', WS_MAX_FRAME_BYTES: 'lots', AUTH_DEV_TOKENS: 'true', CORS_ORIGINS: '*' });
    expect(p).toEqual([
      expect.stringMatching(/^WS_MAX_FRAME_BYTES: /),
      'AUTH_DEV_TOKENS: dev tokens cannot be enabled in production mode',
      expect.stringMatching(/^SECRETS_KEY: required in production mode/),
      expect.stringMatching(/^CORS_ORIGINS: "\*" is not an origin/),
    ]);
  });
});

describe('retired variables', () => {
  test('a variable this release no longer reads is a problem naming its replacement, not a silent default', () => {
    expect(problems({ WS_MESSAGES_PER_MINUTE: '10', WEBHOOK_ALLOW_PRIVATE: 'true' })).toEqual([
      'WS_MESSAGES_PER_MINUTE: no longer read; set RUNS_PER_MINUTE (run starts per user per minute, WebSocket and REST alike)',
      'WEBHOOK_ALLOW_PRIVATE: no longer read; allow private webhook hosts with OUTBOUND_ALLOW_HOSTS or OUTBOUND_ALLOW_CIDRS',
    ]);
  });
});

describe('SECRETS_KEY', () => {
  test('production mode refuses to start without it and says what to set', () => {
    const [p, ...rest] = problems({ PARLEY_MODE: 'production' });
    expect(rest).toEqual([]);
    expect(p).toMatch(/^SECRETS_KEY: required in production mode/);
    expect(p).toContain('openssl rand -base64 32');
    expect(problems({ PARLEY_MODE: 'production', SECRETS_KEY: randomBytes(32).toString('base64') })).toEqual([]);
  });

  test('dev mode runs without it (inbox secrets then stay in plain text, with a warning at start)', () => {
    expect(problems({ PARLEY_MODE: 'dev' })).toEqual([]);
  });

  test('a key that is not 32 bytes of hex or base64 is refused, naming the variable and not the value', () => {
    const p = problems({ SECRETS_KEY: 'REPLACE_ME', SECRETS_KEY_PREVIOUS: 'change-me-please' });
    expect(p).toEqual([
      expect.stringMatching(/^SECRETS_KEY: expected 32 random bytes as 64 hex characters or as base64/),
      expect.stringMatching(/^SECRETS_KEY_PREVIOUS: expected 32 random bytes/),
    ]);
    expect(p.join(' ')).not.toMatch(/REPLACE_ME|change-me-please/);
  });

  test('a previous key alone is refused: it only decrypts', () => {
    expect(problems({ SECRETS_KEY_PREVIOUS: randomBytes(32).toString('hex') })).toEqual([expect.stringMatching(/^SECRETS_KEY_PREVIOUS: only decrypts/)]);
  });

  test('the parsed key does not print its bytes', () => {
    const raw = randomBytes(32);
    const parsed = env.parse('gateway', { ...AUTH, SECRETS_KEY: raw.toString('base64') });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    const printed = `${JSON.stringify(parsed.config)} ${String(parsed.config.secrets.key)}`;
    expect(printed).not.toContain(raw.toString('base64'));
    expect(printed).not.toContain(raw.toString('hex'));
  });
});

describe('CORS_ORIGINS', () => {
  test('origins are kept in the form browsers send (scheme://host[:port], no trailing slash)', () => {
    const parsed = env.parse('gateway', { ...AUTH, CORS_ORIGINS: 'https://App.Example.com/, http://localhost:5173' });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    expect(parsed.config.cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  test('an entry that is not an origin (a path, another scheme, a bare host, a wildcard) is a problem naming it', () => {
    const p = problems({ CORS_ORIGINS: 'https://ok.example.com,https://a.example.com/app,ftp://b.example.com,c.example.com,*' });
    expect(p).toHaveLength(4);
    for (const entry of ['https://a.example.com/app', 'ftp://b.example.com', 'c.example.com', '*'])
      expect(p).toContainEqual(expect.stringContaining(`CORS_ORIGINS: "${entry}" is not an origin`));
  });

  test('unset: no cross-origin caller is allowed', () => {
    const parsed = env.parse('gateway', AUTH);
    expect(parsed.ok && parsed.config.cors.origins).toEqual([]);
  });
});

describe('OIDC sign-in', () => {
  const OIDC = {
    AUTH_JWT_SECRET: '',
    AUTH_JWKS_URL: 'https://idp.example.com/jwks',
    OIDC_ISSUER_URL: 'https://idp.example.com/realms/parley',
    OIDC_CLIENT_ID: 'parley-web',
    OIDC_REDIRECT_URL: 'https://chat.example.com/auth/callback',
  };

  test('configured: the ID token is the bearer, issuer and audience default to the provider and the client', () => {
    const parsed = env.parse('gateway', OIDC);
    expect(parsed.ok && parsed.config.auth).toMatchObject({
      issuer: 'https://idp.example.com/realms/parley',
      audience: 'parley-web',
      oidc: { clientId: 'parley-web', scopes: ['openid', 'profile', 'email'], providerName: 'idp.example.com', bearer: 'id_token' },
    });
  });

  test('half configured: every missing piece is named', () => {
    expect(problems({ OIDC_CLIENT_ID: 'parley-web', OIDC_CLIENT_SECRET: 's' })).toEqual([
      'OIDC_ISSUER_URL: required with OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (OIDC sign-in is half configured)',
    ]);
    expect(problems({ ...OIDC, OIDC_CLIENT_ID: '', OIDC_REDIRECT_URL: '' })).toEqual([
      expect.stringMatching(/^OIDC_CLIENT_ID: required with OIDC_ISSUER_URL/),
      expect.stringMatching(/^OIDC_REDIRECT_URL: required with OIDC_ISSUER_URL/),
    ]);
    expect(problems({ ...OIDC, OIDC_REDIRECT_URL: 'https://chat.example.com/callback', OIDC_SCOPES: 'profile' })).toEqual([
      "OIDC_REDIRECT_URL: must end in /auth/callback (the gateway's callback route), not /callback",
      'OIDC_SCOPES: must include openid',
    ]);
  });

  test("the provider's tokens must be verifiable: its key set, its issuer, an audience for access tokens", () => {
    expect(problems({ ...OIDC, AUTH_JWKS_URL: '', AUTH_JWT_SECRET: 'x'.repeat(40) })).toEqual([
      expect.stringMatching(/^AUTH_JWKS_URL: OIDC sign-in hands the browser the provider's id_token/),
    ]);
    expect(problems({ ...OIDC, AUTH_JWT_ISSUER: 'https://elsewhere.example.com' })).toEqual([
      expect.stringMatching(/^AUTH_JWT_ISSUER: "https:\/\/elsewhere.example.com" differs from OIDC_ISSUER_URL/),
    ]);
    expect(problems({ ...OIDC, OIDC_TOKEN: 'access_token' })).toEqual([expect.stringMatching(/^AUTH_JWT_AUDIENCE: required with OIDC_TOKEN=access_token/)]);
    expect(problems({ ...OIDC, OIDC_TOKEN: 'access_token', AUTH_JWT_AUDIENCE: 'https://api.parley.example.com' })).toEqual([]);
  });

  test('plain http only for a provider the operator allows by name', () => {
    const http = { ...OIDC, OIDC_ISSUER_URL: 'http://keycloak:8080/realms/parley' };
    expect(problems(http)).toEqual([
      expect.stringMatching(/^OIDC_ISSUER_URL: use https; plain http is accepted only for a provider the operator names in OUTBOUND_ALLOW_HOSTS \(keycloak\)/),
    ]);
    expect(problems({ ...http, OUTBOUND_ALLOW_HOSTS: 'keycloak' })).toEqual([]);
  });
});
