import type { RedisClient } from '../connection.js';
import { busKeys } from '@parley/contracts';

export interface DrainResult {
  consumer: string;
  /** Entries handed to the other consumers (made immediately reclaimable). */
  handedOver: number;
  removed: boolean;
}

/**
 * Removes a consumer that is going away (scale-down) without losing what it held: waits up to
 * `waitMs` for it to finish its pending entries, then marks whatever is left as long idle, so the
 * other replicas' reclaim loops take it at their next pass, and deletes the consumer.
 * Deleting a consumer with pending entries would drop them from the group's PEL: never done here,
 * which is also why the placeholder stays (with nothing pending once the entries are reclaimed).
 */
export async function drainConsumer(redis: RedisClient, prefix: string, service: string, consumer: string, waitMs = 30_000): Promise<DrainResult> {
  const stream = busKeys.stream(prefix, service);
  const group = busKeys.group(service);
  const until = Date.now() + waitMs;
  let pending = await consumerPending(redis, stream, group, consumer);
  while (pending.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 200));
    pending = await consumerPending(redis, stream, group, consumer);
  }
  let handedOver = 0;
  while (pending.length > 0) {
    // Claimed to a placeholder with a huge idle time: any live reclaimer takes them at once.
    await redis.xclaim(stream, group, `${consumer}:drained`, 0, ...pending, 'IDLE', 24 * 3600_000, 'JUSTID');
    handedOver += pending.length;
    pending = await consumerPending(redis, stream, group, consumer);
  }
  const removed = (await redis.xgroup('DELCONSUMER', stream, group, consumer)) !== null;
  return { consumer, handedOver, removed };
}

async function consumerPending(redis: RedisClient, stream: string, group: string, consumer: string): Promise<string[]> {
  const rows = (await redis.xpending(stream, group, '-', '+', 1000, consumer)) as Array<[string, string, number, number]>;
  return rows.map((r) => r[0]);
}
