/**
 * `parley_agent_runs_total`: runs ended, by flow, agent and status, counted where every run's end is
 * told (a RunEndObserver). Label values are bounded: a flow is a registered one, an agent one that was
 * admitted; a refused request (unknown agent or flow, bad input, a busy conversation) is `REFUSED`
 * with agent `-`, so nobody mints a series by sending ids. `default` is the agent's own flow, or the
 * tenant's default agent (the request named none).
 */
import type { AgentRun } from '@parley/contracts';
import { Counter, type Registry } from 'prom-client';
import type { FlowRegistry } from '../flows/define-flow.js';
import type { RunEndObserver } from '../replies/run-end-observers.js';
import type { RunOutcome } from './run-outcome.js';

export function runMetrics(registry: Registry, flows: FlowRegistry): RunEndObserver {
  const runs = new Counter({
    name: 'parley_agent_runs_total',
    help: 'Runs ended, by flow, agent and status (SUCCEEDED, FAILED, CANCELLED, REFUSED).',
    labelNames: ['flow', 'agent', 'status'] as const,
    registers: [registry],
  });
  return {
    ended(data: AgentRun, outcome: RunOutcome): Promise<void> {
      const refused = outcome.refusal !== undefined;
      const flow = data.flow === undefined ? 'default' : flows.get(data.flow) ? data.flow : 'other';
      runs.inc({ flow, agent: refused ? '-' : (data.agentId ?? 'default'), status: refused ? 'REFUSED' : outcome.status });
      return Promise.resolve();
    },
  };
}
