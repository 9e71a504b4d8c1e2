import type { Bus, Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { CancelHub } from '../domain/runs/cancel-hub.js';
import type { RunPauses } from '../stores/run-pauses.js';
import { isTerminal, type RunStore } from '../stores/run-store.js';

/**
 * Any replica can take the cancel: the hub reaches the replica that runs it. A run not recorded yet
 * (its agent.run still queued) is cancelled too: the mark stops it the moment it is picked up. A paused run
 * runs nowhere: its wait is decided as `cancel` and its resume ends it CANCELLED (with its status entry).
 */
export const cancelHandler =
  (runs: RunStore, cancels: CancelHub, pauses: RunPauses, bus: Bus<Catalog>): Handler<Catalog, 'agent.cancel'> =>
  async ({ runId }, ctx) => {
    const record = await runs.get(ctx.action.tenantId, runId);
    if (record && isTerminal(record.status)) return { runId, cancelled: false };
    if (record?.status === 'PAUSED' && record.approval) {
      const claimed = await pauses.decide(ctx.action.tenantId, runId, record.approval.approvalId, { decision: 'cancel', by: ctx.action.userId ?? null });
      if (claimed) await bus.send('agent.resume_run', { runId }, { ...ctx.meta, correlationId: runId });
      return { runId, cancelled: claimed };
    }
    await cancels.cancel(runId);
    return { runId, cancelled: true };
  };
