import type { RedisClient } from '@parley/bus';
import type { RunEvent } from '@parley/contracts';
import type { RunEventSink } from '../domain/runs/run-events.js';

/**
 * A RunEvents sink for tests of what a run emits, without a bus worker around it: the entry goes to the
 * run's real event log in Redis, then each event to `seen` (the bus does both in one write; its own tests
 * cover that order).
 */
export function logThenCollect(redis: RedisClient, seen: (event: RunEvent) => void): RunEventSink {
  return async (events, entry) => {
    const write = redis.pipeline().xadd(entry.stream, '*', ...entry.fields);
    if (entry.ttlMs !== undefined) write.pexpire(entry.stream, entry.ttlMs);
    for (const [err] of (await write.exec()) ?? []) if (err) throw err;
    for (const event of events) seen(event);
  };
}
