import type { RedisClient } from '../connection.js';
import { busKeys } from '@parley/contracts';

export interface ConsumerStatus {
  name: string;
  pending: number;
  idleMs: number;
}

export interface StreamStatus {
  service: string;
  stream: string;
  length: number;
  /** Entries not yet delivered to the group (Redis ≥ 7 `lag`; null when Redis cannot tell). */
  lag: number | null;
  pending: number;
  consumers: ConsumerStatus[];
  /** Idle time of the oldest pending entry: how long an unfinished action has waited. */
  oldestPendingMs: number | null;
  deadLetters: number;
}

function toObject(list: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) o[String(list[i])] = list[i + 1];
  return o;
}

/** What `npm run ops -- status` prints: one row per service stream. */
export async function streamStatus(redis: RedisClient, prefix: string, service: string): Promise<StreamStatus> {
  const stream = busKeys.stream(prefix, service);
  const group = busKeys.group(service);
  const [length, deadLetters] = await Promise.all([redis.xlen(stream), redis.xlen(busKeys.deadLetters(prefix, service))]);
  const status: StreamStatus = { service, stream, length, lag: null, pending: 0, consumers: [], oldestPendingMs: null, deadLetters };
  if (length === 0 && !(await redis.exists(stream))) return status;
  const groups = ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map(toObject);
  const info = groups.find((g) => g.name === group);
  if (!info) return status;
  status.lag = info.lag === null || info.lag === undefined ? null : Number(info.lag);
  status.pending = Number(info.pending);
  const consumers = ((await redis.xinfo('CONSUMERS', stream, group)) as unknown[][]).map(toObject);
  status.consumers = consumers.map((c) => ({ name: String(c.name), pending: Number(c.pending), idleMs: Number(c.idle) }));
  if (status.pending > 0) {
    const oldest = (await redis.xpending(stream, group, '-', '+', 1)) as Array<[string, string, number, number]>;
    status.oldestPendingMs = oldest[0] ? Number(oldest[0][2]) : null;
  }
  return status;
}
