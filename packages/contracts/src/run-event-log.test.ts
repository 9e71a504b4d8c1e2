import { describe, expect, test } from 'vitest';
import { decodeRunLogEntry, encodeRunLogEntry } from './run-event-log.js';
import { RUN_LOG_SHARDS, runEventLogKey, runLogShard, type RunEvent } from './agent.js';

const token = (seq: number, delta: string): RunEvent => ({ type: 'run.token', runId: 'r1', seq, at: 1_700_000_000_000 + seq, delta });

describe('run event log entries', () => {
  test('a batch entry gives back its events in order', () => {
    const events = [token(1, 'Hel'), token(2, 'lo')];
    expect(decodeRunLogEntry(encodeRunLogEntry(events))).toEqual(events);
  });

  test('a single-event entry from a writer before batching is still read', () => {
    expect(decodeRunLogEntry(['e', JSON.stringify(token(3, 'x'))])).toEqual([token(3, 'x')]);
  });

  test('unreadable JSON, unknown fields and invalid events yield nothing rather than a throw', () => {
    expect(decodeRunLogEntry(['b', '[{"type":'])).toEqual([]);
    expect(decodeRunLogEntry(['x', '1'])).toEqual([]);
    expect(decodeRunLogEntry(['b', JSON.stringify([{ type: 'run.token', seq: 'one' }, token(4, 'ok')])])).toEqual([token(4, 'ok')]);
  });
});

describe('run event log keys', () => {
  test('a run keeps its shard; run ids spread over every shard; the key names its shard as hash tag', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `01938a2b-0000-7000-8000-${String(i).padStart(12, '0')}`);
    const shards = new Set(ids.map(runLogShard));
    expect(shards.size).toBe(RUN_LOG_SHARDS);
    expect(runLogShard(ids[7]!)).toBe(runLogShard(ids[7]!));
    expect(runEventLogKey('p', ids[7]!)).toBe(`p:run:{runlog:${runLogShard(ids[7]!)}}:${ids[7]}:events`);
  });
});
