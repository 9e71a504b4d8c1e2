import type { RedisClient } from '../connection.js';
import { busKeys } from '@parley/contracts';

export interface DeadLetter {
  id: string;
  type: string;
  code: string;
  reason: string;
  attempts: number;
  at: number;
  /** The original stream entry's action JSON, as it was sent. */
  raw: string;
}

function field(fields: string[], name: string): string {
  const i = fields.indexOf(name);
  return i >= 0 && i % 2 === 0 ? (fields[i + 1] ?? '') : '';
}

/** One entry for a service's dead-letter stream: the layout `listDeadLetters` and `replayDeadLetters` read. */
export interface NewDeadLetter {
  service: string;
  /** The action JSON as it should be replayed. */
  raw: string;
  type: string;
  code: string;
  reason: string;
  attempts: number;
  /** The stream entry it came from ('' when written by a handler rather than the bus). */
  entry: string;
  consumer: string;
  /** Extra fields, e.g. a receiver's status. */
  extra?: Record<string, string | number>;
}

/**
 * Appends a dead letter. The command is issued before this returns (no await ahead of it), so on the
 * same connection it precedes whatever the caller sends next, e.g. the entry's XACK.
 */
export function writeDeadLetter(redis: RedisClient, prefix: string, d: NewDeadLetter): Promise<string | null> {
  const fields = [
    'a',
    d.raw,
    'code',
    d.code,
    'reason',
    d.reason,
    'attempts',
    String(d.attempts),
    'service',
    d.service,
    'type',
    d.type,
    'entry',
    d.entry,
    'consumer',
    d.consumer,
    'at',
    String(Date.now()),
  ];
  for (const [k, v] of Object.entries(d.extra ?? {})) fields.push(k, String(v));
  return redis.xadd(busKeys.deadLetters(prefix, d.service), 'MAXLEN', '~', 100_000, '*', ...fields);
}

export async function listDeadLetters(redis: RedisClient, prefix: string, service: string, limit = 20): Promise<DeadLetter[]> {
  const rows = await redis.xrevrange(busKeys.deadLetters(prefix, service), '+', '-', 'COUNT', limit);
  return rows.map(([id, f]) => ({
    id,
    type: field(f, 'type'),
    code: field(f, 'code'),
    reason: field(f, 'reason'),
    attempts: Number(field(f, 'attempts')),
    at: Number(field(f, 'at')),
    raw: field(f, 'a'),
  }));
}

export interface ReplayResult {
  replayed: string[];
  skipped: Array<{ id: string; why: string }>;
}

/**
 * Puts dead letters back on their service's stream, then removes them from the dead-letter stream.
 * The caller of the original action is long gone and its deadline has passed: both are dropped, so
 * the replay runs as a fresh fire-and-forget with the same action id (a mutation that did complete
 * meanwhile is still de-duplicated by that id).
 */
export async function replayDeadLetters(redis: RedisClient, prefix: string, service: string, ids: string[] | 'all'): Promise<ReplayResult> {
  const dlq = busKeys.deadLetters(prefix, service);
  const rows = ids === 'all' ? await redis.xrange(dlq, '-', '+') : (await Promise.all(ids.map((id) => redis.xrange(dlq, id, id)))).flat();
  const result: ReplayResult = { replayed: [], skipped: [] };
  for (const [id, fields] of rows) {
    let action: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(field(fields, 'a'));
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      action = parsed as Record<string, unknown>;
    } catch {
      result.skipped.push({ id, why: 'the dead letter does not hold a JSON action (poison entry); delete it instead' });
      continue;
    }
    delete action.replyTo;
    delete action.deadline;
    await redis.xadd(busKeys.stream(prefix, service), '*', 'a', JSON.stringify(action));
    await redis.xdel(dlq, id);
    result.replayed.push(id);
  }
  const found = new Set(rows.map(([id]) => id));
  if (ids !== 'all') for (const id of ids) if (!found.has(id)) result.skipped.push({ id, why: 'no such dead letter' });
  return result;
}
