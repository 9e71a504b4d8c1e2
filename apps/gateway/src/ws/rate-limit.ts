/**
 * Per-user budgets, each one counter in Redis shared by every replica (rate-limiter-flexible
 * consumes atomically, so N replicas together admit exactly the budget):
 * - `runs`: run starts per minute, WS `chat.message` and REST `POST /runs` alike;
 * - `frames`: every other WS frame per minute (history.get, resume, ping, …).
 * If Redis errors, the request is let through: a rate limiter must not take chat down with it,
 * and the bus call that follows would fail anyway.
 */
import { keyPart } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * The counter's script (rate-limiter-flexible's `customIncrTtlLuaScript`: KEYS[1] the counter; ARGV
 * the points, the window in seconds, the budget; returns {consumed, ms before the window ends}). The
 * counter gets its expiry from the consume that creates it, in the same script, so it always has one;
 * the time left is read only when it matters, for a refusal's Retry-After (under budget the window is
 * its upper bound). One command per consume instead of the stock script's three.
 */
const CONSUME = `
local consumed = redis.call('INCRBY', KEYS[1], ARGV[1])
local window = 1000 * tonumber(ARGV[2])
if consumed == tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return {consumed, window}
end
if consumed <= tonumber(ARGV[3]) then return {consumed, window} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = window
end
return {consumed, ttl}
`;

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

export type RateBudget = 'runs' | 'frames';

export class RateLimits {
  private readonly limiters: Record<RateBudget, RateLimiterRedis>;

  constructor(
    redis: RedisClient,
    prefix: string,
    readonly perMinute: Record<RateBudget, number>,
  ) {
    const limiter = (budget: RateBudget) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${prefix}:gw:rl:${budget}`,
        points: perMinute[budget],
        duration: 60,
        customIncrTtlLuaScript: CONSUME,
      });
    this.limiters = { runs: limiter('runs'), frames: limiter('frames') };
  }

  /** Tenant and user come from a token: each is escaped so `a:b` + `c` never shares a key with `a` + `b:c`. */
  async consume(budget: RateBudget, who: { tenantId: string; userId: string }): Promise<RateDecision> {
    try {
      await this.limiters[budget].consume(`${keyPart(who.tenantId)}:${keyPart(who.userId)}`);
      return { ok: true };
    } catch (res) {
      if (res instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, Math.ceil(res.msBeforeNext)) };
      return { ok: true };
    }
  }
}
