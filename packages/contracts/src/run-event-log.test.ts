import { describe, expect, test } from 'vitest';
import { decodeRunLogEntry, encodeRunLogEntry } from './run-event-log.js';
import type { RunEvent } from './agent.js';

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
