import { Redis, type RedisOptions } from 'ioredis';

export type RedisTarget = string | RedisOptions;

/**
 * Commands connection: auto-pipelined, so every command issued in one tick (acks, replies, XADDs)
 * leaves in one write. Retries forever: a call waits for Redis to return instead of failing fast,
 * bounded by its own timeout.
 */
export function commandConnection(target: RedisTarget, name: string): Redis {
  const base: RedisOptions = {
    enableAutoPipelining: true,
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  return typeof target === 'string' ? new Redis(target, base) : new Redis({ ...target, ...base });
}

/** A connection for one blocking reader (XREADGROUP / BLMPOP); never shared, never auto-pipelined. */
export function blockingConnection(target: RedisTarget, name: string): Redis {
  const base: RedisOptions = {
    enableAutoPipelining: false,
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
  };
  return typeof target === 'string' ? new Redis(target, base) : new Redis({ ...target, ...base });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
