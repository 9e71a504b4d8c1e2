import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import type { RunStore } from '../stores/run-store.js';
import type { AgentStore } from '../stores/agent-store.js';
import type { FlowRegistry } from '../domain/flows/define-flow.js';
import { validateRun } from '../domain/runs/admission.js';

export const validateRunHandler =
  (agents: AgentStore, flows: FlowRegistry): Handler<Catalog, 'agent.validate_run'> =>
  (data, ctx) =>
    validateRun(agents, flows, ctx.action.tenantId, data);

export const getRunHandler =
  (runs: RunStore): Handler<Catalog, 'agent.get_run'> =>
  async ({ runId }, ctx) => {
    const record = await runs.get(ctx.action.tenantId, runId);
    if (!record) throw new ActionError('not_found', `run ${runId} does not exist for this tenant`);
    return record;
  };

export const listRunsHandler =
  (runs: RunStore): Handler<Catalog, 'agent.list_runs'> =>
  (q, ctx) =>
    runs.list(ctx.action.tenantId, q);
