/**
 * Token verification with jose. The key and the accepted algorithms come from configuration only:
 * the token's own header never chooses them, so `alg: none` and HS/RS confusion (a public key used
 * as an HMAC secret) fail by construction.
 */
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { acceptedAlgorithms, type GatewayConfig } from '../env.js';
import { claimAt, rolesIn } from '@parley/contracts/claims';

export interface Principal {
  userId: string;
  tenantId: string;
  roles: string[];
}

/** What a verified token says, plus when it stops being valid (a socket is closed then). */
export interface VerifiedPrincipal extends Principal {
  /** Epoch ms: the token's `exp` plus the clock tolerance, the last moment verify() accepts it. */
  validUntil: number;
}

/**
 * The messages a client is shown. A forged or foreign token (bad signature, issuer, audience,
 * algorithm) must not be told its sign-in expired: that sends a user to sign in again for nothing
 * and tells an attacker which part held.
 */
export const AuthMessage = {
  missing: 'a token is required (?token= or Authorization: Bearer)',
  expired: 'your sign-in expired; sign in again',
  invalid: 'invalid token',
} as const;

export class AuthError extends Error {
  constructor(
    readonly reason: 'missing' | 'expired' | 'invalid' | 'claims',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface Verifier {
  verify(token: string | undefined): Promise<VerifiedPrincipal>;
}

type KeySource = Uint8Array | Awaited<ReturnType<typeof importSPKI>> | JWTVerifyGetKey;

export async function createVerifier(auth: GatewayConfig['auth']): Promise<Verifier> {
  const algorithms = acceptedAlgorithms(auth);
  let key: KeySource;
  if (auth.secret) key = new TextEncoder().encode(auth.secret);
  else if (auth.jwksUrl) {
    // jose caches the key set and refetches on an unknown `kid`, at most once per cooldown.
    key = createRemoteJWKSet(new URL(auth.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000, timeoutDuration: 5_000 });
  } else if (auth.publicKeyPem) {
    const alg = algorithms[0] ?? 'RS256';
    key = await importSPKI(auth.publicKeyPem, alg);
  } else throw new Error('no JWT key configured');

  const options: JWTVerifyOptions = { algorithms, clockTolerance: auth.clockToleranceS, requiredClaims: ['sub', 'exp'] };
  if (auth.issuer) options.issuer = auth.issuer;
  if (auth.audience) options.audience = auth.audience;

  return {
    async verify(token) {
      if (!token) throw new AuthError('missing', AuthMessage.missing);
      let payload: JWTPayload;
      try {
        // Two calls because jose types its key-set and plain-key overloads apart.
        payload = typeof key === 'function' ? (await jwtVerify(token, key, options)).payload : (await jwtVerify(token, key, options)).payload;
      } catch (err) {
        // jose checks the signature, then issuer and audience, then expiry: only a genuine token reaches JWTExpired.
        if (err instanceof errors.JWTExpired) throw new AuthError('expired', AuthMessage.expired);
        throw new AuthError('invalid', AuthMessage.invalid);
      }
      // requiredClaims makes jose refuse a token without a numeric `exp`.
      return { ...principalOf(payload, auth), validUntil: ((payload.exp as number) + auth.clockToleranceS) * 1000 };
    },
  };
}

/**
 * The principal a verified token names. A token without a tenant is refused, never given a default
 * tenant: a missing claim mapping at the identity provider must not put its users into someone's tenant.
 */
export function principalOf(payload: JWTPayload, auth: Pick<GatewayConfig['auth'], 'tenantClaim' | 'rolesClaim'>): Principal {
  const tenantId = claimAt(payload, auth.tenantClaim);
  if (typeof tenantId !== 'string' || tenantId.length === 0 || tenantId.length > 128) {
    throw new AuthError(
      'claims',
      `${AuthMessage.invalid}: it has no "${auth.tenantClaim}" claim naming your tenant; ask your identity provider's admin to add it`,
    );
  }
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw new AuthError('claims', `${AuthMessage.invalid}: it has no subject`);
  return { userId: sub, tenantId, roles: rolesIn(claimAt(payload, auth.rolesClaim)) };
}

export function isAdmin(p: Principal): boolean {
  return p.roles.includes('admin');
}
