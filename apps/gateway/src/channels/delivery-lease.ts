/**
 * A short Redis lease on one run's outbound delivery (a webhook, a Chatwoot answer), so two
 * deliveries of the same run (a reclaimed entry beside a slow original, a replayed dead letter)
 * never post at once. It is renewed while the holder works, so it can stay short: a replica that dies
 * mid-delivery frees it within `ttlMs`, and the reclaimed delivery does not wait out the whole retry
 * schedule of the dead one. Duplicate entries share an action id, so the owner is one per attempt.
 */
import { randomUUID } from 'node:crypto';
import { LEASE_RELEASE_SCRIPT, LEASE_RENEW_SCRIPT } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';

export interface Lease {
  release(): Promise<void>;
}

/**
 * The lease, or null while someone else holds it. `holder` names who holds it (the replica); each
 * call is its own owner. Renew and release compare the owner first (@parley/contracts' lease scripts):
 * a holder whose lease expired and was taken must not touch the new one.
 */
export async function acquireLease(redis: RedisClient, key: string, holder: string, ttlMs: number): Promise<Lease | null> {
  const owner = `${holder}:${randomUUID()}`;
  if ((await redis.set(key, owner, 'PX', ttlMs, 'NX')) === null) return null;
  const renew = setInterval(
    () => {
      redis.eval(LEASE_RENEW_SCRIPT, 1, key, owner, String(ttlMs)).catch(() => {
        /* a missed renewal only shortens the lease */
      });
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await redis.eval(LEASE_RELEASE_SCRIPT, 1, key, owner).catch(() => {
        /* an unreleased lease expires on its own */
      });
    },
  };
}
