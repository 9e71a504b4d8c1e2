import type { StoredRunStep } from '@parley/contracts';
import type { RunPause } from '@parley/db';
import type { AgentExecutionConfig } from '../../env.js';
import type { RunPauses } from '../../stores/run-pauses.js';
import type { ApprovalRequest, ApprovalResume } from '../tools/approval.js';
import type { Running } from './run-lifecycle.js';
import type { RunOutcome } from './run-outcome.js';

/** A delivery that left its run PAUSED: nothing is told but the reply; a decision resumes it (agent.resume_run). */
export interface PausedOutcome {
  runId: string;
  conversationId: string | null;
  status: 'PAUSED';
}
export const pausedOf = (runId: string, conversationId: string | null): PausedOutcome => ({ runId, conversationId, status: 'PAUSED' });

/**
 * The flow paused on a tool call that needs a person: the record goes PAUSED first (with the step that asks, so a
 * decision arriving the moment the step is seen finds the run waiting), then the step is emitted. The delivery
 * then ends: the conversation lock, the worker and the run's timers are given back while it waits.
 */
export async function pauseRun(
  d: { pauses?: RunPauses | undefined; config: AgentExecutionConfig['runs'] },
  r: Running,
  asked: ApprovalRequest,
): Promise<PausedOutcome> {
  const { runId } = r.data;
  if (!d.pauses) throw new Error('a run paused in a process without a pause store');
  const now = Date.now();
  const approval = {
    ...asked,
    approver: r.admitted.agent.approver ?? 'user',
    requestedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + d.config.approvalTimeoutMs).toISOString(),
  };
  await r.events.flush();
  const seq = r.events.lastSeq + 1;
  const step: StoredRunStep = { seq, at: now, kind: 'log', name: 'approval_requested', data: approval };
  await r.running;
  const paused = await d.pauses.pause(
    runId,
    { approval, request: r.data, lastSeq: seq, roles: [...r.roles] },
    { steps: [...r.events.steps.steps, step], omitted: r.events.steps.omittedCount },
  );
  if (!paused) throw new Error(`run ${runId} was not RUNNING when it paused`);
  r.events.step('log', 'approval_requested', approval);
  await r.events.flush();
  r.log.info({ approvalId: asked.approvalId, tool: asked.tool }, 'run paused for an approval');
  return pausedOf(runId, r.admitted.conversationId);
}

type Decision = NonNullable<RunPause['decision']>;

/** What the graph's pending interrupt() returns for a person's decision. */
export function resumeOf(decision: Decision): ApprovalResume {
  if (decision.decision === 'edit') return { decision: 'edit', args: decision.args ?? {} };
  if (decision.decision === 'reject') return decision.reason ? { decision: 'reject', reason: decision.reason } : { decision: 'reject' };
  return { decision: 'approve' };
}

/** A wait that ends the run instead of resuming it: the timeout (FAILED approval_timeout) or a cancel. */
export function endedWaiting(decision: Decision, pause: RunPause, runId: string, conversationId: string | null): RunOutcome | null {
  if (decision.decision === 'cancel')
    return { runId, conversationId, status: 'CANCELLED', error: { code: 'cancelled', message: 'the run was cancelled while it waited for an approval' } };
  if (decision.decision === 'timeout')
    return {
      runId,
      conversationId,
      status: 'FAILED',
      error: { code: 'approval_timeout', message: `no decision on the ${pause.approval.tool} call came by ${pause.approval.expiresAt}; the run stopped` },
    };
  return null;
}
