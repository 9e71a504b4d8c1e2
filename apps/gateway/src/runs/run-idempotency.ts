/**
 * `Idempotency-Key` on `POST /api/v1/runs`: the first request with a key claims it (SET NX, 24 h) with
 * the hash of its body and the run it starts; the same key with the same body answers that run again,
 * with another body it is refused (422). Keys are scoped per tenant and principal, so two callers
 * never share one. The body is hashed in a canonical JSON (safe-stable-stringify: sorted keys, a
 * well-kept library rather than a hand-written canonicaliser), so key order does not make a new request.
 */
import { createHash } from 'node:crypto';
import { ActionError, keyPart } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';
import { stringify } from 'safe-stable-stringify';
import { z } from 'zod';
import type { Actor } from '../auth/access.js';

const TTL_S = 24 * 3600;
/** Printable ASCII, bounded: the key is a caller's token, echoed in messages. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-255 printable ASCII characters without spaces');
const Claim = z.object({ hash: z.string(), runId: z.string() });

export type Claimed = { fresh: true } | { fresh: false; runId: string };

export class RunIdempotency {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(actor: Actor, key: string): string {
    return `${this.prefix}:gw:idem:runs:{${keyPart(actor.tenantId)}}:${actor.owner.kind}:${keyPart(actor.owner.id)}:${createHash('sha256').update(key).digest('hex')}`;
  }

  /** Claims `key` for this body and run, or answers the run an earlier identical request started; a different body is refused. */
  async claim(actor: Actor, key: string, body: unknown, runId: string): Promise<Claimed> {
    const hash = createHash('sha256')
      .update(stringify(body) ?? '')
      .digest('hex');
    const k = this.key(actor, key);
    const set = await this.redis.set(k, JSON.stringify({ hash, runId }), 'EX', TTL_S, 'NX');
    if (set === 'OK') return { fresh: true };
    const prior = Claim.safeParse(JSON.parse((await this.redis.get(k)) ?? 'null'));
    // Expired between the two commands: claim again rather than refuse a caller who did nothing wrong.
    if (!prior.success) return this.claim(actor, key, body, runId);
    if (prior.data.hash !== hash)
      throw new ActionError('idempotency_key_reused', `Idempotency-Key "${key}" was used for a different request body in the last 24 hours`, {
        details: { header: 'Idempotency-Key' },
      });
    return { fresh: false, runId: prior.data.runId };
  }

  /** A start that failed before the run existed gives its key back, so the caller's retry can start it. */
  async release(actor: Actor, key: string, runId: string): Promise<void> {
    const k = this.key(actor, key);
    const prior = Claim.safeParse(JSON.parse((await this.redis.get(k)) ?? 'null'));
    if (prior.success && prior.data.runId === runId) await this.redis.del(k);
  }
}
