/**
 * Decisions on a paused run's tool call, from REST (`POST /runs/:id/approval`) and WS (`approval.decide`): one rule.
 * The run rule first (tenant, owner or staff; anything else `not_found`), then the agent's approver: `user` lets the
 * run's owner and staff decide, `operator` staff only (`forbidden` to the owner, who may see the run but not decide).
 * agent-execution checks the rest: the run waits on that call (else `conflict`), edited arguments fit the tool.
 */
import type { ActionMeta } from '@parley/bus';
import { ActionError, type DecideApprovalBody } from '@parley/contracts';
import type { Actor } from '../auth/access.js';
import type { GatewayContext } from '../context.js';

type Ctx = Pick<GatewayContext, 'bus' | 'runAccess'>;

export async function decideApproval(ctx: Ctx, actor: Actor, runId: string, body: DecideApprovalBody, meta: ActionMeta) {
  await ctx.runAccess.check(actor, runId);
  const run = await ctx.bus.call('agent.get_run', { runId }, meta, { timeoutMs: 5_000 });
  if (run.status === 'PAUSED' && run.approval?.approver === 'operator' && !actor.staff)
    throw new ActionError('forbidden', `the tool calls of this agent are approved by an operator; ${run.approval.tool} waits for one`);
  return ctx.bus.call('agent.decide_approval', { runId, ...body }, meta, { timeoutMs: 10_000 });
}
