import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './env.js';

export function uniquePrefix(label = 't'): string {
  return `test:${label}:${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under a test's prefix. SCAN is fine here: tests only, never in services. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export function newRedis(): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
}
