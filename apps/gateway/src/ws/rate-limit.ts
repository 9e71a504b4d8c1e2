/**
 * Messages per user per minute, one budget shared by every replica (rate-limiter-flexible keeps
 * the counter in Redis). If Redis errors, the message is let through: a rate limiter must not take
 * chat down with it, and the bus call that follows would fail anyway.
 */
import { keyPart } from '@parley/contracts';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export class MessageRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(redis: Redis, prefix: string, readonly perMinute: number) {
    this.limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}:gw:rl:msg`, points: perMinute, duration: 60 });
  }

  async consume(tenantId: string, userId: string): Promise<RateDecision> {
    try {
      // Both parts come from token claims: encoded, so `v:k` + `m` never shares a budget with `v` + `k:m`.
      await this.limiter.consume(`${keyPart(tenantId)}:${keyPart(userId)}`);
      return { ok: true };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(res.msBeforeNext)) };
      return { ok: true };
    }
  }
}
