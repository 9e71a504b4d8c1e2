import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import type { RunStore } from '../stores/run-store.js';

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
