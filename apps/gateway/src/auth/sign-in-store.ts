/**
 * What OIDC sign-in keeps in Redis, so any gateway replica can finish what another started:
 *
 * - a pending sign-in (state, nonce, PKCE verifier) from /auth/login until the provider sends the
 *   browser back, 10 minutes at most, taken once;
 * - the hand-off of the provider's token to the page: the callback stores it under a random id that
 *   only an HttpOnly cookie carries, and the page takes it once with POST /auth/session. So the token
 *   never appears in a URL (browser history, proxy and access logs, Referer); it waits 60 s at most.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from '@parley/bus';
import type { PendingSignIn } from './oidc-client.js';

export const PENDING_TTL_S = 600;
export const HANDOFF_TTL_S = 60;

export class SignInStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  async savePending(p: PendingSignIn): Promise<void> {
    await this.redis.set(this.key('pending', p.state), JSON.stringify(p), 'EX', PENDING_TTL_S);
  }

  /** Taken once: a replayed callback finds nothing. */
  async takePending(state: string): Promise<PendingSignIn | null> {
    const raw = await this.redis.getdel(this.key('pending', state));
    return raw ? (JSON.parse(raw) as PendingSignIn) : null;
  }

  /** Stores the token for the page to take; returns the hand-off id (the cookie's value). */
  async saveHandoff(token: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.redis.set(this.key('handoff', id), token, 'EX', HANDOFF_TTL_S);
    return id;
  }

  async takeHandoff(id: string): Promise<string | null> {
    return this.redis.getdel(this.key('handoff', id));
  }

  private key(kind: 'pending' | 'handoff', id: string): string {
    return `${this.prefix}:auth:${kind}:${id}`;
  }
}
