import { describe, expect, test } from 'vitest';
import { ActionError } from '@parley/contracts';
import { classifyFailure } from './run-errors.js';

const signal = new AbortController().signal;

describe('classifyFailure', () => {
  test('a crash (a driver error with SQL and parameters) ends the run internal with a reference, never the crash message', () => {
    const err = new Error('Failed query: insert into "agent_runs" ("input") values ($1)\nparams: {"text":"secret"}', {
      cause: Object.assign(new Error('invalid byte sequence'), { code: '22021' }),
    });
    const f = classifyFailure(err, signal);
    expect(f).toMatchObject({ status: 'FAILED', code: 'internal', ref: expect.any(String) });
    expect(f.message).toContain(f.ref);
    expect(f.message).not.toMatch(/insert|params|secret/);
  });

  test('a crash reported through the bus keeps the reference its service logged; reported failures keep their message', () => {
    const crashed = new ActionError('max_deliveries', 'conversation.begin_turn failed on every delivery (3) (reference r-9)', { ref: 'r-9' });
    expect(classifyFailure(crashed, signal)).toMatchObject({ code: 'internal', ref: 'r-9' });
    expect(classifyFailure(new ActionError('busy', 'a run is active'), signal)).toEqual({ status: 'FAILED', code: 'busy', message: 'a run is active' });
  });
});
