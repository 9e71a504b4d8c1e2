import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@parley/contracts';
import { MAX_KEPT_STEPS, MAX_STEP_DATA_BYTES, RunSteps } from './run-steps.js';

const step = (seq: number, data?: unknown): Extract<RunEvent, { type: 'run.step' }> => ({
  type: 'run.step',
  runId: 'r',
  seq,
  at: 1_000 + seq,
  kind: 'log',
  name: `s${seq}`,
  ...(data === undefined ? {} : { data }),
});

describe('RunSteps (what a finished run keeps of its steps)', () => {
  it('keeps the first MAX_KEPT_STEPS steps with their seq and counts the rest', () => {
    const s = new RunSteps();
    for (let i = 1; i <= MAX_KEPT_STEPS + 5; i++) s.add(step(i, { i }));
    expect(s.steps).toHaveLength(MAX_KEPT_STEPS);
    expect(s.steps[0]).toEqual({ seq: 1, at: 1_001, kind: 'log', name: 's1', data: { i: 1 } });
    expect(s.omittedCount).toBe(5);
  });

  it('replaces data too large, or that jsonb cannot hold, by a marker with its size', () => {
    const s = new RunSteps();
    s.add(step(1, 'x'.repeat(MAX_STEP_DATA_BYTES + 1)));
    s.add(step(2, 'a\u0000b'));
    s.add(step(3, { ok: true }));
    expect(s.steps.map((x) => x.data)).toEqual([{ truncated: true, bytes: MAX_STEP_DATA_BYTES + 3 }, { truncated: true, bytes: 10 }, { ok: true }]);
  });

  it('bounds the data of one run as a whole', () => {
    const s = new RunSteps();
    const big = 'y'.repeat(MAX_STEP_DATA_BYTES - 10);
    for (let i = 1; i <= 40; i++) s.add(step(i, big));
    const kept = s.steps.filter((x) => typeof x.data === 'string');
    expect(kept.length).toBeGreaterThan(20);
    expect(kept.length).toBeLessThan(40);
    expect(s.steps.at(-1)?.data).toMatchObject({ truncated: true });
  });
});
