/**
 * `Idempotency-Key` on knowledge uploads. The key already names the bus action (a retry is answered
 * the first ingest's document by the bus); this claim adds the other half of the contract: the key
 * names one request, so the same key with a different body is refused (422) instead of silently
 * answering the first document. The claim holds the body's hash for 24 hours, per tenant.
 */
import { createHash } from 'node:crypto';
import { ActionError, keyPart } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';

const TTL_S = 24 * 3600;

export class UploadIdempotency {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(tenantId: string, key: string): string {
    return `${this.prefix}:gw:idem:kb:{${keyPart(tenantId)}}:${createHash('sha256').update(key).digest('hex')}`;
  }

  /** Claims `key` for the body of this hash; the same hash again passes, another is a 422. */
  async claim(tenantId: string, key: string, bodyHash: string): Promise<void> {
    const k = this.key(tenantId, key);
    const set = await this.redis.set(k, bodyHash, 'EX', TTL_S, 'NX');
    if (set === 'OK') return;
    const prior = await this.redis.get(k);
    // Expired between the two commands: claim again rather than refuse a caller who did nothing wrong.
    if (prior === null) return this.claim(tenantId, key, bodyHash);
    if (prior !== bodyHash)
      throw new ActionError('idempotency_key_reused', `Idempotency-Key "${key}" was used for a different upload in the last 24 hours`, {
        details: { header: 'Idempotency-Key' },
      });
  }

  /** An upload that failed gives its key back, so a corrected retry under the same key is not refused. */
  async release(tenantId: string, key: string, bodyHash: string): Promise<void> {
    const k = this.key(tenantId, key);
    if ((await this.redis.get(k)) === bodyHash) await this.redis.del(k);
  }
}
