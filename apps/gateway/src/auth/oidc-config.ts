/**
 * OpenID Connect sign-in's env variables, spread into the gateway's env.ts so that file stays the
 * only one that reads the environment. OIDC is on when OIDC_ISSUER_URL is set; then the client id
 * and the redirect URL are required too, and the gateway must verify the provider's tokens with the
 * provider's keys (AUTH_JWKS_URL), because the browser signs in with exactly those tokens.
 */
import { z } from 'zod';
import { envList } from '@parley/service-kit';

export const oidcEnvShape = {
  OIDC_ISSUER_URL: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(512).optional(),
  /** Confidential clients only; a public client signs in with PKCE alone. */
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_REDIRECT_URL: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_SCOPES: envList(['openid', 'profile', 'email']),
  /** The button says "Sign in with <this>". */
  OIDC_PROVIDER_NAME: z.string().min(1).max(64).optional(),
  /** Which of the provider's tokens the browser uses as its bearer token. */
  OIDC_TOKEN: z.enum(['id_token', 'access_token']).default('id_token'),
};

type OidcEnv = z.output<z.ZodObject<typeof oidcEnvShape>>;

export interface OidcConfig {
  issuerUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  /** Where the provider sends the browser back: the gateway's `/auth/callback`, as the browser reaches it. */
  redirectUrl: string;
  scopes: string[];
  providerName: string;
  bearer: 'id_token' | 'access_token';
}

/** The OIDC settings (undefined when OIDC_ISSUER_URL is unset) and the rules across its variables. */
export function oidcConfig(e: OidcEnv): { oidc: OidcConfig | undefined; problems: string[] } {
  const problems: string[] = [];
  const named = { OIDC_CLIENT_ID: e.OIDC_CLIENT_ID, OIDC_REDIRECT_URL: e.OIDC_REDIRECT_URL, OIDC_CLIENT_SECRET: e.OIDC_CLIENT_SECRET };
  if (!e.OIDC_ISSUER_URL) {
    const set = Object.entries(named).filter(([, v]) => v !== undefined);
    if (set.length > 0 || e.OIDC_PROVIDER_NAME) {
      problems.push(
        `OIDC_ISSUER_URL: required with ${[...set.map(([k]) => k), ...(e.OIDC_PROVIDER_NAME ? ['OIDC_PROVIDER_NAME'] : [])].join(', ')} (OIDC sign-in is half configured)`,
      );
    }
    return { oidc: undefined, problems };
  }
  if (!e.OIDC_CLIENT_ID) problems.push('OIDC_CLIENT_ID: required with OIDC_ISSUER_URL (the client registered at the provider for Parley)');
  if (!e.OIDC_REDIRECT_URL) {
    problems.push(
      "OIDC_REDIRECT_URL: required with OIDC_ISSUER_URL: the gateway's /auth/callback as the browser reaches it, e.g. https://chat.example.com/auth/callback",
    );
  } else if (!new URL(e.OIDC_REDIRECT_URL).pathname.endsWith('/auth/callback')) {
    problems.push(`OIDC_REDIRECT_URL: must end in /auth/callback (the gateway's callback route), not ${new URL(e.OIDC_REDIRECT_URL).pathname}`);
  }
  if (!e.OIDC_SCOPES.includes('openid')) problems.push('OIDC_SCOPES: must include openid');
  if (problems.length > 0 || !e.OIDC_CLIENT_ID || !e.OIDC_REDIRECT_URL) return { oidc: undefined, problems };
  return {
    oidc: {
      issuerUrl: e.OIDC_ISSUER_URL,
      clientId: e.OIDC_CLIENT_ID,
      clientSecret: e.OIDC_CLIENT_SECRET,
      redirectUrl: e.OIDC_REDIRECT_URL,
      scopes: e.OIDC_SCOPES,
      providerName: e.OIDC_PROVIDER_NAME ?? new URL(e.OIDC_ISSUER_URL).hostname,
      bearer: e.OIDC_TOKEN,
    },
    problems,
  };
}
