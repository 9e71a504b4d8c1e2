// parley_agent_runs_total: the labels a run's end gets, and that ids a caller sends never become label values.
import { ActionError } from '@parley/contracts';
import { Registry } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { createFlowRegistry } from '../flows/index.js';
import type { RunOutcome } from './run-outcome.js';
import { runMetrics } from './run-metrics.js';

const base = { runId: 'r1', conversationId: null, input: {} };

async function series(ends: Array<[Record<string, unknown>, RunOutcome]>): Promise<Array<Record<string, string | number>>> {
  const registry = new Registry();
  const observer = runMetrics(registry, createFlowRegistry());
  // The observer reads the run's data and outcome only; the delivery context is not used.
  for (const [data, outcome] of ends) await observer.ended({ ...base, ...data } as never, outcome, undefined as never);
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'parley_agent_runs_total');
  return (metric?.values ?? []).map((v) => ({ ...v.labels, value: v.value }) as Record<string, string | number>);
}

describe('parley_agent_runs_total', () => {
  test('counts runs ended by flow, agent and status; default when the request named none', async () => {
    expect(
      await series([
        [{}, { runId: 'r1', conversationId: 'c', status: 'SUCCEEDED' }],
        [{}, { runId: 'r2', conversationId: 'c', status: 'SUCCEEDED' }],
        [
          { flow: 'poem', agentId: 'a1' },
          { runId: 'r3', conversationId: null, status: 'FAILED', error: { code: 'model_error', message: 'x' } },
        ],
        [
          { flow: 'chat', agentId: 'a1' },
          { runId: 'r4', conversationId: 'c', status: 'CANCELLED' },
        ],
      ]),
    ).toEqual([
      { flow: 'default', agent: 'default', status: 'SUCCEEDED', value: 2 },
      { flow: 'poem', agent: 'a1', status: 'FAILED', value: 1 },
      { flow: 'chat', agent: 'a1', status: 'CANCELLED', value: 1 },
    ]);
  });

  test('a refused request is REFUSED with agent "-", and an unregistered flow name is "other": callers cannot mint series', async () => {
    const refusal = new ActionError('not_found', 'no such agent');
    const refused = (runId: string): RunOutcome => ({ runId, conversationId: null, status: 'FAILED', error: { code: 'not_found', message: 'x' }, refusal });
    expect(
      await series([
        [{ agentId: 'made-up-1', flow: 'made-up-flow-1' }, refused('r1')],
        [{ agentId: 'made-up-2', flow: 'made-up-flow-2' }, refused('r2')],
      ]),
    ).toEqual([{ flow: 'other', agent: '-', status: 'REFUSED', value: 2 }]);
  });
});
