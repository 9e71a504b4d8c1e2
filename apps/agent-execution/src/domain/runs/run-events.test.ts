import { describe, expect } from 'vitest';
import { decodeRunLogEntry, runEventLogKey, type RunEvent } from '@parley/contracts';
import { newRedis, redisTest as it, waitFor } from '@parley/testing';
import { RunEvents } from './run-events.js';
import { logThenCollect } from '../../testing/run-event-log.js';

const deltas = (events: RunEvent[]) => events.map((e) => (e.type === 'run.token' ? e.delta : `<${e.type}>`));

describe('RunEvents token window', () => {
  it('sends the first token at once, then what arrives within the window as one event, in order, numbered without gaps', async ({ redis, prefix }) => {
    const seen: RunEvent[] = [];
    const sees = (expected: string[]) => waitFor(() => deltas(seen).join('|') === expected.join('|') || null, { what: expected.join('|') });
    const events = new RunEvents(
      logThenCollect(redis, (e) => seen.push(e)),
      prefix,
      'r1',
      0,
      40,
    );
    // Given in one tick, so the window the first token opened cannot have closed yet, however slow the host:
    // the first goes out at once, the rest is held until the window closes, then sent as one event.
    events.token('Hel');
    events.token('lo');
    events.token(', wor');
    await sees(['Hel', 'lo, wor']);
    events.token('ld');
    // Anything else that happens sends the held tokens first, so the order is the model's.
    events.step('log', 'checking');
    events.emit('run.completed', { text: 'Hello, world', usage: { promptTokens: 1, completionTokens: 4, totalTokens: 5 } });
    await events.flush();
    expect(deltas(seen)).toEqual(['Hel', 'lo, wor', 'ld', '<run.step>', '<run.completed>']);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const log = await redis.xrange(runEventLogKey(prefix, 'r1'), '-', '+');
    expect(log.flatMap(([, f]) => decodeRunLogEntry(f))).toEqual(seen);
  });

  it('flush sends held tokens (a run that fails mid-stream loses none of what the model said)', async ({ redis, prefix }) => {
    const seen: RunEvent[] = [];
    const events = new RunEvents(
      logThenCollect(redis, (e) => seen.push(e)),
      prefix,
      'r2',
      0,
      1_000,
    );
    events.token('a');
    events.token('b');
    await events.flush();
    expect(deltas(seen)).toEqual(['a', 'b']);
    events.emit('run.failed', { status: 'FAILED', code: 'timeout', message: 'too slow' });
    events.token('late');
    await events.flush();
    expect(deltas(seen)).toEqual(['a', 'b', '<run.failed>']);
  });

  it('with a window of 0 every model token is its own event', async ({ redis, prefix }) => {
    const seen: RunEvent[] = [];
    const events = new RunEvents(
      logThenCollect(redis, (e) => seen.push(e)),
      prefix,
      'r3',
    );
    for (const t of ['x', 'y', 'z']) events.token(t);
    await events.flush();
    expect(deltas(seen)).toEqual(['x', 'y', 'z']);
  });

  it('a log write that fails before the run flushes does not end the process; flush reports it', async ({ prefix }) => {
    const gone = newRedis();
    gone.disconnect();
    const events = new RunEvents(
      logThenCollect(gone, () => {}),
      prefix,
      'r4',
      0,
      0,
    );
    events.token('lost');
    await new Promise((r) => setTimeout(r, 50)); // the write has failed by now, with nobody awaiting it yet
    // The run's error path answers the caller instead.
    await expect(events.flush()).rejects.toThrow(/closed/i);
  });
});

describe('RunEvents end of a run', () => {
  it('endSeq sends held tokens first, is the seq the terminal event gets, and drops anything but it after', async ({ redis, prefix }) => {
    const seen: RunEvent[] = [];
    const events = new RunEvents(
      logThenCollect(redis, (e) => seen.push(e)),
      prefix,
      'e1',
      0,
      1_000,
    );
    events.token('a');
    events.step('log', 'looked', { n: 1 }, 50);
    events.token('b');
    events.token('c');
    const end = events.endSeq();
    events.token('late');
    events.step('log', 'late');
    events.emit('run.completed', { text: 'abc', usage: { promptTokens: 1, completionTokens: 1, totalTokens: 2 } });
    await events.flush();
    expect(deltas(seen)).toEqual(['a', '<run.step>', 'bc', '<run.completed>']);
    expect(seen.at(-1)?.seq).toBe(end);
    expect(events.steps.steps).toEqual([{ seq: 2, at: seen[1]!.at, kind: 'log', name: 'looked', data: { n: 1 }, progress: 50 }]);
  });

  it('logged() reads a redelivered run’s last seq and steps from its log', async ({ redis, prefix }) => {
    const events = new RunEvents(
      logThenCollect(redis, () => {}),
      prefix,
      'e2',
    );
    events.step('tool_call', 'search', { q: 'x' });
    events.token('t');
    events.step('tool_result', 'search');
    await events.flush();
    const logged = await RunEvents.logged(redis, prefix, 'e2');
    expect(logged.lastSeq).toBe(3);
    expect(logged.steps.map((s) => [s.seq, s.kind])).toEqual([
      [1, 'tool_call'],
      [3, 'tool_result'],
    ]);
  });
});
