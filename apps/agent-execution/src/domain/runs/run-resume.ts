import type { Logger } from 'pino';
import type { HandlerContext } from '@parley/bus';
import { ActionError, type AgentRun, type RunEvent, type StoredRunStep } from '@parley/contracts';
import { withDbRetry, type RunPause } from '@parley/db';
import { admit, type Admitted } from './admission.js';
import { RunStopped } from './cancel-hub.js';
import { beginTurn, ConversationLease, writesConversation, type Turn, type TurnRequest } from './conversation-turn.js';
import { RunEvents } from './run-events.js';
import { newRunning, type LifecycleDeps, type Running } from './run-lifecycle.js';
import type { RunOutcome } from './run-outcome.js';
import { endedWaiting, resumeOf, type PausedOutcome } from './run-pause.js';

/** The steps of RunLifecycle a resumed run goes through like a first delivery (bound to it). */
export interface LifecycleSteps {
  goAhead(r: Running, lease: ConversationLease, turn: Promise<Turn>, request: TurnRequest, ctx: HandlerContext<RunEvent>): Promise<RunOutcome | PausedOutcome>;
  end(
    outcome: RunOutcome,
    events: RunEvents,
    timings?: Record<string, number>,
    trace?: { lease: ConversationLease; request: TurnRequest; log: Logger },
  ): Promise<RunOutcome>;
  eventsOf(runId: string, ctx: HandlerContext<RunEvent>, startAfter: number): RunEvents;
  deleteCheckpoints(runId: string, log: Logger): Promise<void>;
}

export interface PausedRun {
  /** The `agent.run` the run was started with. */
  data: AgentRun;
  pause: RunPause;
  decision: NonNullable<RunPause['decision']>;
  /** The steps the record kept at the pause: the final record keeps them with what follows. */
  steps: readonly StoredRunStep[];
}

/**
 * A paused run going on, on whichever replica took its `agent.resume_run`: admitted again, its events numbered after
 * the pause's, the conversation held again and its context read (the user's message is saved already), then the
 * graph resumed from its checkpoint with the decision, and ended like any run. A timeout or a cancel ends it at once,
 * with its status entry in the transcript.
 */
export async function resumeRun(d: LifecycleDeps, steps: LifecycleSteps, p: PausedRun, ctx: HandlerContext<RunEvent>): Promise<RunOutcome | PausedOutcome> {
  const { data, pause, decision } = p;
  const { runId } = data;
  const events = steps.eventsOf(runId, ctx, Math.max(pause.lastSeq, await RunEvents.lastSeq(d.redis, d.prefix, runId)));
  for (const step of p.steps) events.steps.add({ ...step, type: 'run.step', runId });
  let admitted: Admitted;
  try {
    admitted = await withDbRetry(() => admit(d.agents, d.flows, ctx.action.tenantId, data), d.dbRetry);
  } catch (err) {
    if (!(err instanceof ActionError)) throw err;
    return await steps.end({ runId, conversationId: data.conversationId ?? null, status: 'FAILED', error: { code: err.code, message: err.message } }, events);
  }
  const stop = d.cancels.track(runId);
  const onWorkerAbort = () => stop.abort(new RunStopped({ kind: 'shutdown' }));
  ctx.signal.addEventListener('abort', onWorkerAbort, { once: true });
  const lease = new ConversationLease(d, admitted.conversationId, runId);
  const request: TurnRequest = {
    admitted,
    runId,
    channel: data.channel,
    meta: ctx.meta,
    signal: stop.signal,
    fresh: true,
    resuming: true,
  };
  const log = ctx.log.child({ runId, agentId: admitted.agent.agentId, flow: admitted.flow.name });
  try {
    const ended = endedWaiting(decision, pause, runId, admitted.conversationId);
    if (ended) {
      // Held so the status entry is saved under the conversation's lock, like any end.
      await lease.acquire('enqueue', request.fresh, stop.signal);
      await steps.deleteCheckpoints(runId, log);
      return await steps.end(ended, events, undefined, writesConversation(admitted) ? { lease, request, log } : undefined);
    }
    const r = newRunning({ data, admitted, events, stop, log, roles: pause.roles, resume: resumeOf(decision) });
    try {
      return await steps.goAhead(r, lease, beginTurn(d, lease, request), request, ctx);
    } finally {
      clearTimeout(r.maxRun);
    }
  } finally {
    await lease.release().catch((e: unknown) => log.warn({ err: e, runId }, 'could not release the conversation lock; it expires by itself'));
    ctx.signal.removeEventListener('abort', onWorkerAbort);
    d.cancels.untrack(runId, stop);
  }
}
