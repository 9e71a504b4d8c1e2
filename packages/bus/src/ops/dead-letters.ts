import type { Redis } from 'ioredis';
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

export async function listDeadLetters(redis: Redis, prefix: string, service: string, limit = 20): Promise<DeadLetter[]> {
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
export async function replayDeadLetters(redis: Redis, prefix: string, service: string, ids: string[] | 'all'): Promise<ReplayResult> {
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
