import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { CancelHub } from '../domain/runs/cancel-hub.js';
import { isTerminal, type RunStore } from '../stores/run-store.js';

/**
 * Any replica can take the cancel: the hub reaches the replica that runs it. A run not recorded yet
 * (its agent.run still queued) is cancelled too: the mark stops it the moment it is picked up.
 */
export const cancelHandler =
  (runs: RunStore, cancels: CancelHub): Handler<Catalog, 'agent.cancel'> =>
  async ({ runId }, ctx) => {
    const record = await runs.get(ctx.action.tenantId, runId);
    if (record && isTerminal(record.status)) return { runId, cancelled: false };
    await cancels.cancel(runId);
    return { runId, cancelled: true };
  };
