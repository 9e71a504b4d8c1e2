/**
 * The gateway's configuration: the only file that knows env variable names. Everything else
 * receives the grouped `GatewayConfig`.
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  defineEnv,
  retiredEnv,
  envBool,
  envInt,
  envList,
  envPort,
  outboundEnvShape,
  outboundPolicyOf,
  SECRET_KEY_FORM,
  secretKeyEnv,
  type OutboundPolicy,
} from '@parley/service-kit';
import { oidcConfig, oidcEnvShape, type OidcConfig } from './auth/oidc-config.js';
import { chatwootConfig, chatwootEnvShape, type ChatwootConfig } from './channels/chatwoot/config.js';
import type { KnowledgeLimits } from './knowledge/document-types.js';

const Alg = z.enum(['HS256', 'RS256', 'ES256']);

const shape = {
  ...retiredEnv({
    WS_MESSAGES_PER_MINUTE: 'set RUNS_PER_MINUTE (run starts per user per minute, WebSocket and REST alike)',
    WEBHOOK_ALLOW_PRIVATE: 'allow private webhook hosts with OUTBOUND_ALLOW_HOSTS or OUTBOUND_ALLOW_CIDRS',
  }),
  // Auth: either a shared HS256 secret, or a JWKS URL (RS256/ES256), or a PEM public key.
  AUTH_JWT_SECRET: z.string().min(32, 'use at least 32 characters').optional(),
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_JWT_PUBLIC_KEY: z.string().optional(),
  AUTH_JWT_ALGORITHMS: envList(),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  AUTH_CLOCK_TOLERANCE_S: envInt(30),
  /** A claim name, or a dotted path into nested claims (`realm_access.roles`); a claim literally named so wins. */
  AUTH_TENANT_CLAIM: z.string().min(1).default('tenant_id'),
  AUTH_ROLES_CLAIM: z.string().min(1).default('roles'),
  AUTH_DEV_TOKENS: envBool(false),
  ...oidcEnvShape,

  WS_MAX_FRAME_BYTES: envInt(16 * 1024),
  /** Frames above this are not even buffered: ws closes the socket with 1009. */
  WS_HARD_MAX_FRAME_BYTES: envInt(1024 * 1024),
  WS_MAX_TEXT_CHARS: envInt(8_000),
  WS_MAX_SOCKETS_PER_USER: envInt(10),
  /** Run starts per user per minute, WS chat.message and REST POST /runs together, across replicas. */
  RUNS_PER_MINUTE: envInt(30),
  /** Every other WS frame (history.get, resume, ping, …) per user per minute, across replicas. */
  WS_FRAMES_PER_MINUTE: envInt(600),
  WS_IDLE_TIMEOUT_MS: envInt(10 * 60_000),
  WS_PING_INTERVAL_MS: envInt(30_000),
  WS_MAX_BUFFERED_BYTES: envInt(1024 * 1024),
  WS_HISTORY_LIMIT: envInt(50),

  RUN_TIMEOUT_MS: envInt(15 * 60_000),
  /** /metrics (and the probes) on their own port, off the public one; 0 lets the OS pick (logged). */
  METRICS_PORT: envPort(0),
  /** Browser origins allowed to call the API and open the WebSocket; empty means same-origin only. */
  CORS_ORIGINS: envList(),
  WEBHOOK_SECRET: z.string().min(16).optional(),
  WEBHOOK_ALLOWED_HOSTS: envList(),
  WEBHOOK_MAX_ATTEMPTS: envInt(5),
  WEBHOOK_BACKOFF_MS: envInt(1_000),
  /** Encrypts secrets stored in PostgreSQL (Chatwoot inboxes); the previous key only decrypts, for rotation. */
  SECRETS_KEY: secretKeyEnv().optional(),
  SECRETS_KEY_PREVIOUS: secretKeyEnv().optional(),
  ...chatwootEnvShape,
  ...outboundEnvShape,
  /** Per-file limits of knowledge uploads and URL ingestion, by the document's type (413 above them). */
  KNOWLEDGE_MAX_PDF_BYTES: envInt(20 * 1024 * 1024),
  KNOWLEDGE_MAX_DOCX_BYTES: envInt(10 * 1024 * 1024),
  /** HTML, Markdown and plain text. */
  KNOWLEDGE_MAX_TEXT_BYTES: envInt(5 * 1024 * 1024),
  KNOWLEDGE_URL_TIMEOUT_MS: envInt(15_000),
};

export type JwtAlg = z.infer<typeof Alg>;

export interface GatewayConfig {
  auth: {
    secret: string | undefined;
    jwksUrl: string | undefined;
    publicKeyPem: string | undefined;
    algorithms: JwtAlg[];
    issuer: string | undefined;
    audience: string | undefined;
    clockToleranceS: number;
    tenantClaim: string;
    rolesClaim: string;
    devTokens: boolean;
    /** OpenID Connect sign-in (authorization code + PKCE, run by the gateway), when OIDC_ISSUER_URL is set. */
    oidc: OidcConfig | undefined;
    problems: string[];
  };
  ws: {
    maxFrameBytes: number;
    hardMaxFrameBytes: number;
    maxTextChars: number;
    maxSocketsPerUser: number;
    framesPerMinute: number;
    idleTimeoutMs: number;
    pingIntervalMs: number;
    maxBufferedBytes: number;
    historyLimit: number;
  };
  runs: { timeoutMs: number; perMinute: number };
  metrics: { port: number };
  /** Exact origins (`scheme://host[:port]`); a malformed entry is a config problem. */
  cors: { origins: string[]; problems: string[] };
  webhook: { secret: string | undefined; allowedHosts: string[]; outbound: OutboundPolicy; maxAttempts: number; backoffMs: number };
  /** Keys for secrets at rest: `key` seals and opens, `previousKey` only opens. */
  secrets: { key: KeyObject | undefined; previousKey: KeyObject | undefined };
  chatwoot: ChatwootConfig;
  /** What user-supplied outbound URLs (webhooks, Chatwoot baseUrl, knowledge URLs) may reach besides public addresses. */
  outbound: OutboundPolicy;
  knowledge: KnowledgeLimits;
}

/** One run lists every problem: the variables' own, then the rules across them (configProblems). */
export const env = defineEnv(
  {
    ...shape,
    AUTH_JWT_ALGORITHMS: shape.AUTH_JWT_ALGORITHMS.pipe(z.array(Alg)),
  },
  (e): GatewayConfig => ({
    auth: authConfig(e),
    ws: {
      maxFrameBytes: e.WS_MAX_FRAME_BYTES,
      hardMaxFrameBytes: Math.max(e.WS_HARD_MAX_FRAME_BYTES, e.WS_MAX_FRAME_BYTES),
      maxTextChars: e.WS_MAX_TEXT_CHARS,
      maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
      framesPerMinute: e.WS_FRAMES_PER_MINUTE,
      idleTimeoutMs: e.WS_IDLE_TIMEOUT_MS,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      historyLimit: Math.min(Math.max(e.WS_HISTORY_LIMIT, 1), 200),
    },
    runs: { timeoutMs: e.RUN_TIMEOUT_MS, perMinute: e.RUNS_PER_MINUTE },
    metrics: { port: e.METRICS_PORT },
    cors: corsConfig(e.CORS_ORIGINS),
    webhook: {
      secret: e.WEBHOOK_SECRET,
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      outbound: outboundPolicyOf(e),
      maxAttempts: Math.max(e.WEBHOOK_MAX_ATTEMPTS, 1),
      backoffMs: e.WEBHOOK_BACKOFF_MS,
    },
    secrets: { key: e.SECRETS_KEY, previousKey: e.SECRETS_KEY_PREVIOUS },
    chatwoot: chatwootConfig(e),
    outbound: outboundPolicyOf(e),
    knowledge: {
      maxBytes: {
        pdf: e.KNOWLEDGE_MAX_PDF_BYTES,
        docx: e.KNOWLEDGE_MAX_DOCX_BYTES,
        html: e.KNOWLEDGE_MAX_TEXT_BYTES,
        markdown: e.KNOWLEDGE_MAX_TEXT_BYTES,
        text: e.KNOWLEDGE_MAX_TEXT_BYTES,
      },
      urlTimeoutMs: e.KNOWLEDGE_URL_TIMEOUT_MS,
    },
  }),
  (config, base) => configProblems(config, base.mode),
);

type AuthEnv = Pick<
  z.output<z.ZodObject<typeof shape>>,
  | 'AUTH_JWT_SECRET'
  | 'AUTH_JWKS_URL'
  | 'AUTH_JWT_PUBLIC_KEY'
  | 'AUTH_JWT_ISSUER'
  | 'AUTH_JWT_AUDIENCE'
  | 'AUTH_CLOCK_TOLERANCE_S'
  | 'AUTH_TENANT_CLAIM'
  | 'AUTH_ROLES_CLAIM'
  | 'AUTH_DEV_TOKENS'
  | keyof typeof oidcEnvShape
> & { AUTH_JWT_ALGORITHMS: JwtAlg[] };

/**
 * With OIDC sign-in, the browser's bearer token is the provider's own token, so the expected issuer
 * defaults to the provider's and, for its ID token, the expected audience to the client id.
 */
function authConfig(e: AuthEnv): GatewayConfig['auth'] {
  const { oidc, problems } = oidcConfig(e);
  const issuer = e.AUTH_JWT_ISSUER ?? oidc?.issuerUrl;
  const audience = e.AUTH_JWT_AUDIENCE ?? (oidc?.bearer === 'id_token' ? oidc.clientId : undefined);
  if (oidc) {
    if (!e.AUTH_JWKS_URL && !e.AUTH_JWT_PUBLIC_KEY) {
      problems.push(
        `AUTH_JWKS_URL: OIDC sign-in hands the browser the provider's ${oidc.bearer}, so the gateway must verify it with the provider's keys: set AUTH_JWKS_URL to the jwks_uri of ${oidc.issuerUrl}/.well-known/openid-configuration`,
      );
    }
    if (e.AUTH_JWT_ISSUER && e.AUTH_JWT_ISSUER !== oidc.issuerUrl) {
      problems.push(
        `AUTH_JWT_ISSUER: "${e.AUTH_JWT_ISSUER}" differs from OIDC_ISSUER_URL "${oidc.issuerUrl}", so no token of the provider would verify; leave it unset`,
      );
    }
    if (oidc.bearer === 'access_token' && !e.AUTH_JWT_AUDIENCE) {
      problems.push("AUTH_JWT_AUDIENCE: required with OIDC_TOKEN=access_token: the audience (API identifier) the provider puts in Parley's access tokens");
    }
  }
  return {
    secret: e.AUTH_JWT_SECRET,
    jwksUrl: e.AUTH_JWKS_URL,
    publicKeyPem: e.AUTH_JWT_PUBLIC_KEY,
    algorithms: e.AUTH_JWT_ALGORITHMS,
    issuer,
    audience,
    clockToleranceS: e.AUTH_CLOCK_TOLERANCE_S,
    tenantClaim: e.AUTH_TENANT_CLAIM,
    rolesClaim: e.AUTH_ROLES_CLAIM,
    devTokens: e.AUTH_DEV_TOKENS,
    oidc,
    problems,
  };
}

/** Rules zod cannot see one variable at a time, as `NAME: …` lines (the rules of `env` above). */
export function configProblems(config: GatewayConfig, mode: 'dev' | 'production'): string[] {
  const problems: string[] = [];
  const { auth } = config;
  const sources = [auth.secret, auth.jwksUrl, auth.publicKeyPem].filter((s) => s !== undefined).length;
  if (sources === 0) problems.push('AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWT_PUBLIC_KEY: one is required');
  if (sources > 1) problems.push('AUTH_JWT_SECRET, AUTH_JWKS_URL, AUTH_JWT_PUBLIC_KEY: set only one (mixing HMAC and public keys invites algorithm confusion)');
  if (auth.secret && auth.algorithms.some((a) => a !== 'HS256')) problems.push('AUTH_JWT_ALGORITHMS: only HS256 goes with AUTH_JWT_SECRET');
  if (!auth.secret && auth.algorithms.includes('HS256')) problems.push('AUTH_JWT_ALGORITHMS: HS256 needs AUTH_JWT_SECRET, not a public key');
  if (auth.devTokens && mode === 'production') problems.push('AUTH_DEV_TOKENS: dev tokens cannot be enabled in production mode');
  if (auth.devTokens && !auth.secret) problems.push('AUTH_DEV_TOKENS: minting dev tokens needs AUTH_JWT_SECRET');
  problems.push(...auth.problems);
  if (
    auth.oidc &&
    new URL(auth.oidc.issuerUrl).protocol === 'http:' &&
    !config.outbound.allowHosts.includes(new URL(auth.oidc.issuerUrl).hostname.toLowerCase())
  ) {
    problems.push(
      `OIDC_ISSUER_URL: use https; plain http is accepted only for a provider the operator names in OUTBOUND_ALLOW_HOSTS (${new URL(auth.oidc.issuerUrl).hostname}), e.g. a Keycloak on the same private network`,
    );
  }
  if (!config.secrets.key && mode === 'production') {
    problems.push(
      `SECRETS_KEY: required in production mode, it encrypts the Chatwoot inbox secrets stored in PostgreSQL; set it to ${SECRET_KEY_FORM} and keep it with your other secrets (stored inboxes cannot be read without it)`,
    );
  }
  if (config.secrets.previousKey && !config.secrets.key)
    problems.push('SECRETS_KEY_PREVIOUS: only decrypts during a rotation; set SECRETS_KEY to the new key as well');
  problems.push(...config.chatwoot.problems, ...config.cors.problems);
  return problems;
}

/** Browsers send `Origin` as scheme://host[:port], lower-case, no path: entries are compared in that form. */
function corsConfig(entries: string[]): GatewayConfig['cors'] {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    let origin: string | undefined;
    try {
      const u = new URL(entry);
      if ((u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !u.search && !u.hash && !u.username) origin = u.origin;
    } catch {
      origin = undefined;
    }
    if (origin) origins.push(origin);
    else problems.push(`CORS_ORIGINS: "${entry}" is not an origin; expected scheme://host[:port], e.g. https://chat.example.com`);
  }
  return { origins, problems };
}

/** Algorithms accepted for the configured key: pinned, never inferred from the token header. */
export function acceptedAlgorithms(auth: GatewayConfig['auth']): JwtAlg[] {
  if (auth.algorithms.length > 0) return auth.algorithms;
  return auth.secret ? ['HS256'] : ['RS256', 'ES256'];
}
