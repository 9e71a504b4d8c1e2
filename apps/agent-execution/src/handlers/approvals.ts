import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ApprovalDecisions } from '../domain/runs/approval-decisions.js';
import type { RunLifecycle } from '../domain/runs/run-lifecycle.js';

export const decideApprovalHandler =
  (decisions: ApprovalDecisions): Handler<Catalog, 'agent.decide_approval'> =>
  (data, ctx) =>
    decisions.decide(ctx.action.tenantId, data, ctx.meta);

export const resumeRunHandler =
  (lifecycle: RunLifecycle): Handler<Catalog, 'agent.resume_run'> =>
  ({ runId }, ctx) =>
    lifecycle.resume(runId, ctx);
