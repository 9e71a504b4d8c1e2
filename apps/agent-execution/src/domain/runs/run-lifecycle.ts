import type { RedisClient } from '@parley/bus';
import type { Logger } from 'pino';
import type { Bus, HandlerContext } from '@parley/bus';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { ActionError, AgentRun, type Catalog, type RunEvent, type RunResult, type Usage } from '@parley/contracts';
import { withDbRetry, type DbRetryOptions } from '@parley/db';
import type { ModelClient } from '@parley/llm';
import type { AgentExecutionConfig } from '../../env.js';
import type { AgentStore } from '../../stores/agent-store.js';
import type { RunPauses } from '../../stores/run-pauses.js';
import { isTerminal, type RunStore } from '../../stores/run-store.js';
import type { ApprovalResume } from '../tools/approval.js';
import type { FlowRegistry } from '../flows/define-flow.js';
import type { RunEndObservers } from '../replies/run-end-observers.js';
import type { ToolDef } from '../tools/define-tool.js';
import type { ExternalTools } from '../tools/external-tools.js';
import { admit, type Admitted } from './admission.js';
import { RunStopped, type CancelHub } from './cancel-hub.js';
import type { ConversationLock } from './conversation-lock.js';
import type { ConversationPort } from './conversation-port.js';
import { answerMessageIdOf, beginTurn, ConversationLease, saveAnswer, writesConversation, type Turn, type TurnRequest } from './conversation-turn.js';
import { RunAnswers } from './run-answers.js';
import { classifyFailure } from './run-errors.js';
import { RunEvents } from './run-events.js';
import { runFlow, type FlowAnswer } from './run-flow.js';
import { emitEnd, finishOf, refused, replyOf, type RunOutcome } from './run-outcome.js';
import { pausedOf, pauseRun, type PausedOutcome } from './run-pause.js';
import { RunRecovery } from './run-recovery.js';
import { resumeRun, type LifecycleSteps } from './run-resume.js';
import { saveTurnTrace } from './turn-trace.js';

export interface LifecycleDeps {
  bus: Bus<Catalog>;
  /** Command connection for event logs, locks, answers and cancel marks. */
  redis: RedisClient;
  prefix: string;
  agents: AgentStore;
  runs: RunStore;
  flows: FlowRegistry;
  tools: readonly ToolDef[];
  /** The agent's MCP servers and HTTP tools, listed per run. */
  external?: ExternalTools;
  model: ModelClient;
  cancels: CancelHub;
  lock: ConversationLock;
  conversation: ConversationPort;
  /** Told of every run's end (Chatwoot replies, run webhooks). */
  observers: RunEndObservers;
  config: AgentExecutionConfig['runs'];
  /** Retries of database reads and writes through a short PostgreSQL outage (until the service closes). */
  dbRetry: DbRetryOptions;
  /** Paused runs (approvals) and the checkpoints of their graphs; absent: no run pauses. */
  pauses?: RunPauses | undefined;
  checkpoints?: BaseCheckpointSaver | undefined;
}

/** What a run that goes ahead carries through its steps. */
export interface Running {
  data: AgentRun;
  admitted: Admitted;
  events: RunEvents;
  stop: AbortController;
  usage: Usage;
  timings: Record<string, number>;
  startedAt: number;
  /** The record still says PENDING (the run waited for its conversation): marked RUNNING once its turn began. */
  pending: boolean;
  /** That RUNNING write, started beside the flow; awaited before the final status write. */
  running: Promise<void>;
  /** Aborts the run at the agent's max run time. */
  maxRun?: NodeJS.Timeout | undefined;
  log: Logger;
  /** Set once the turn began (its user message saved): an end without an answer then leaves a status entry. */
  trace?: { lease: ConversationLease; request: TurnRequest } | undefined;
  /** The roles of the user who started the run (its toolbox): the envelope's, or the paused record's on resume. */
  roles: readonly string[];
  /** Resuming a paused run: the decision its pending tool call gets. */
  resume?: ApprovalResume | undefined;
}

/** A run about to go ahead: nothing used, nothing timed, its RUNNING write not yet started. */
export function newRunning(
  start: Pick<Running, 'data' | 'admitted' | 'events' | 'stop' | 'log' | 'roles'> & { resume?: ApprovalResume | undefined; pending?: boolean },
): Running {
  return {
    pending: false,
    ...start,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    timings: {},
    startedAt: performance.now(),
    running: Promise.resolve(),
  };
}

/**
 * One delivery of `agent.run`, top to bottom:
 *
 *   admit → lock → record → begin turn → flow → persist → finish → emit
 *
 * and then the run's end told to its observers and the reply derived from its RunOutcome. Every step
 * that can end the run early returns an outcome through `end` (recorded, emitted); a failure after the
 * answer is saved crashes the delivery instead, so the bus redelivers it and recovery completes it.
 * Each step before the flow is one round trip on a free conversation: the lock's SET (beside the
 * early-cancel lookup), the record's insert (RUNNING already, the approval check in the same statement),
 * then begin_turn (docs/adr/0009; begin_turn in one call: 0001).
 */
export class RunLifecycle {
  private readonly answers: RunAnswers;
  private readonly recovery: RunRecovery;

  /** The steps of a run the resume path (run-resume.ts) shares with a first delivery. */
  private readonly steps: LifecycleSteps = {
    goAhead: (r, lease, turn, request, ctx) => this.goAhead(r, lease, turn, request, ctx),
    end: (outcome, events, timings, trace) => this.end(outcome, events, timings, trace),
    eventsOf: (runId, ctx, startAfter) => this.eventsOf(runId, ctx, startAfter),
    deleteCheckpoints: (runId, log) => this.deleteCheckpoints(runId, log),
  };

  constructor(private readonly d: LifecycleDeps) {
    this.answers = new RunAnswers(d.redis, d.prefix);
    this.recovery = new RunRecovery({ bus: d.bus, answers: this.answers });
  }

  /** The `agent.run` handler. */
  async handle(data: AgentRun, ctx: HandlerContext<RunEvent>): Promise<RunResult> {
    let outcome: RunOutcome | PausedOutcome;
    try {
      outcome = await this.run(data, ctx);
    } catch (err) {
      await this.d.observers.crashed(data, ctx, err);
      throw err;
    }
    // A pause is no end: channels and metrics hear of the run when it ends after its resume.
    if (outcome.status === 'PAUSED') return { ...outcome };
    await this.d.observers.ended(data, outcome, ctx);
    return replyOf(outcome);
  }

  /** The `agent.resume_run` handler: a paused run whose decision (or timeout) is recorded goes on, on this replica. */
  async resume(runId: string, ctx: HandlerContext<RunEvent>): Promise<void> {
    const row = await this.d.pauses?.load(ctx.action.tenantId, runId);
    const decision = row?.pause?.decision;
    if (!row?.pause || !decision || row.status !== 'RUNNING') {
      ctx.log.info({ runId, status: row?.status }, 'resume of a run that is not waiting to resume; nothing to do');
      return;
    }
    const data = AgentRun.parse(row.pause.request);
    let outcome: RunOutcome | PausedOutcome;
    try {
      outcome = await resumeRun(this.d, this.steps, { data, pause: row.pause, decision, steps: row.steps ?? [] }, ctx);
    } catch (err) {
      await this.d.observers.crashed(data, ctx, err);
      throw err;
    }
    if (outcome.status !== 'PAUSED') await this.d.observers.ended(data, outcome, ctx);
  }

  /** The delivery's outcome; throws only when it crashed (the bus retries it). */
  async run(data: AgentRun, ctx: HandlerContext<RunEvent>): Promise<RunOutcome | PausedOutcome> {
    const { runId } = data;
    const tenantId = ctx.action.tenantId;

    // 1. Admit. PostgreSQL outages are waited out rather than spending a delivery. A refusal has no record.
    let admitted: Admitted;
    try {
      admitted = await withDbRetry(() => admit(this.d.agents, this.d.flows, tenantId, data), this.d.dbRetry);
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      return await this.refuse(runId, data.conversationId ?? null, err, ctx);
    }
    const { agent, flow, conversationId } = admitted;

    // 2. Lock, then record. The run is tracked before the early-cancel lookup, so a cancel arriving in
    //    between still reaches it; one attempt at the conversation's lock shares the lookup's round trip.
    //    The record is then inserted RUNNING when the conversation was free (nearly every turn), PENDING
    //    when the run waits for it; a conversation that waits on an approval takes no new run.
    const stop = this.d.cancels.track(runId);
    const onWorkerAbort = () => stop.abort(new RunStopped({ kind: 'shutdown' }));
    ctx.signal.addEventListener('abort', onWorkerAbort, { once: true });
    const lease = new ConversationLease(this.d, conversationId, runId);
    try {
      const [held, early] = await Promise.all([lease.tryTake(), this.d.cancels.requested(runId)]);
      if (early) stop.abort(new RunStopped(early));
      const recorded = await this.d.runs.create({
        runId,
        tenantId,
        agentId: agent.agentId,
        agentVersion: agent.version,
        flow: flow.name,
        conversationId,
        channel: data.channel,
        ownerId: ctx.action.userId ?? null,
        input: data.input,
        running: held,
      });
      if ('pausedBy' in recorded) {
        const waiting = new ActionError(
          'conflict',
          `conversation ${conversationId} waits for a decision on run ${recorded.pausedBy}; approve or reject its tool call first`,
          {
            details: { pausedRunId: recorded.pausedBy },
          },
        );
        return await this.refuse(runId, conversationId, waiting, ctx);
      }
      const { record, created } = recorded;
      const request: TurnRequest = {
        admitted,
        runId,
        channel: data.channel,
        meta: ctx.meta,
        signal: stop.signal,
        fresh: created || record.status === 'PENDING',
      };

      // A delivery that does not start the run: a finished run answers what it answered; a redelivered
      // one is completed from its saved answer, or failed as lost when its worker died mid-run.
      if (!created && isTerminal(record.status)) return await this.recovery.replay(record);
      // Delivered again after it paused (its worker died before the ack): it waits, it was not lost.
      if (!created && record.status === 'PAUSED') return pausedOf(runId, conversationId);
      const earlier = created ? null : await RunEvents.logged(this.d.redis, this.d.prefix, runId);
      const events = this.eventsOf(runId, ctx, earlier?.lastSeq ?? 0);
      // The earlier delivery's steps are the run's too: the record keeps them with this delivery's.
      for (const step of earlier?.steps ?? []) events.steps.add(step);
      if (!created) {
        const answered = await this.recovery.answered(runId, conversationId, ctx.meta, ctx.log);
        if (answered) {
          ctx.log.warn({ runId }, 'run redelivered after its answer was saved; recorded SUCCEEDED with that answer');
          return await this.end(answered.outcome, events, answered.timings);
        }
        if (record.status === 'RUNNING') {
          ctx.log.warn({ runId }, 'run found RUNNING on redelivery; marked failed (worker_lost)');
          // The dead worker had begun the turn; this delivery's begin (its lock taken over, the user's message
          // a duplicate) lets the failure's status entry be saved beside it.
          const began = await beginTurn(this.d, lease, request).then(
            () => writesConversation(admitted),
            () => false,
          );
          return await this.end(lostRun(runId, conversationId), events, undefined, began ? { lease, request, log: ctx.log } : undefined);
        }
      }

      const r = newRunning({
        data,
        admitted,
        events,
        stop,
        log: ctx.log.child({ runId, agentId: agent.agentId, flow: flow.name }),
        roles: ctx.action.roles ?? [],
        pending: record.status === 'PENDING',
      });
      try {
        return await this.goAhead(r, lease, beginTurn(this.d, lease, request), request, ctx);
      } finally {
        clearTimeout(r.maxRun);
      }
    } finally {
      await lease.release().catch((e: unknown) => ctx.log.warn({ err: e, runId }, 'could not release the conversation lock; it expires by itself'));
      ctx.signal.removeEventListener('abort', onWorkerAbort);
      this.d.cancels.untrack(runId, stop);
    }
  }

  /** A run refused before it had a record: its event log still ends, for a client following it. */
  private async refuse(runId: string, conversationId: string | null, err: ActionError, ctx: HandlerContext<RunEvent>): Promise<RunOutcome> {
    const outcome = refused(runId, conversationId, err);
    await emitEnd(this.eventsOf(runId, ctx, await RunEvents.lastSeq(this.d.redis, this.d.prefix, runId)), outcome);
    return outcome;
  }

  /** Steps 3 to 7 of a run this delivery starts. */
  private async goAhead(
    r: Running,
    lease: ConversationLease,
    turnStarted: Promise<Turn>,
    request: TurnRequest,
    ctx: HandlerContext<RunEvent>,
  ): Promise<RunOutcome | PausedOutcome> {
    const { runId } = r.data;
    const { agent, flow, conversationId } = r.admitted;
    const signal = r.stop.signal;
    // An agent with gated tools runs its graph checkpointed under the run's id, so it can pause and go on elsewhere;
    // a resumed run always does (its agent may have lost the gate while it waited: the checkpoint is still where it is).
    const durable =
      this.d.checkpoints && (r.resume || (agent.requiresApproval?.length ?? 0) > 0)
        ? { threadId: runId, ...(r.resume ? { resume: r.resume } : {}) }
        : undefined;

    // 3. Begin turn: the conversation is the run's and the model's messages are loaded. A run that waited
    //    for its conversation is marked RUNNING beside the flow (not awaited here: the record is RUNNING
    //    before it is finished).
    // 4. Flow: the graph runs, streaming tokens and steps.
    let answer: FlowAnswer;
    let heldAt: number;
    try {
      const turn = await turnStarted;
      if (writesConversation(r.admitted)) r.trace = { lease, request };
      if (signal.aborted) throw signal.reason;
      // The agent's max run time counts from here: a run queued behind another is not timed while it waits.
      r.maxRun = setTimeout(() => r.stop.abort(new RunStopped({ kind: 'timeout', afterMs: agent.maxRunMs })), agent.maxRunMs);
      heldAt = turn.heldAt;
      if (conversationId) r.timings['queueMs'] = turn.queueMs;
      if (conversationId && flow.conversation !== 'none') r.timings['contextMs'] = turn.contextMs;
      if (r.pending) {
        r.running = this.d.runs.markRunning(runId);
        r.running.catch(() => {
          /* awaited before the final status write on every path */
        });
      }
      if (!r.resume) r.events.emit('run.started', { agentId: agent.agentId, agentVersion: agent.version, flow: flow.name, conversationId });
      const flowEnd = await runFlow(this.d, {
        admitted: r.admitted,
        runId,
        tenantId: ctx.action.tenantId,
        roles: r.roles,
        meta: ctx.meta,
        messages: turn.messages,
        events: r.events,
        signal,
        usage: r.usage,
        timings: r.timings,
        log: r.log,
        durable,
      });
      if ('paused' in flowEnd) return await pauseRun(this.d, r, flowEnd.paused);
      answer = flowEnd;
    } catch (err) {
      if (durable) await this.deleteCheckpoints(runId, r.log);
      return this.fail(r, err);
    }
    if (durable) await this.deleteCheckpoints(runId, r.log);

    // 5. Persist: the answer is kept first, so a delivery after a crash can tell the run produced it,
    //    then the conversation gets it (a flow that writes no conversation keeps it only here).
    const messageId = answerMessageIdOf(r.admitted, runId);
    const outcome: RunOutcome = { runId, conversationId, status: 'SUCCEEDED', text: answer.text, usage: r.usage };
    if (answer.output !== undefined) outcome.output = answer.output;
    if (messageId) outcome.messageId = messageId;
    try {
      await this.answers.put(runId, {
        text: answer.text,
        ...(answer.output === undefined ? {} : { output: answer.output }),
        ...(messageId ? { messageId } : {}),
        usage: { ...r.usage },
        timings: { ...r.timings },
      });
    } catch (err) {
      return this.fail(r, err);
    }
    if (writesConversation(r.admitted) && messageId) {
      try {
        await saveAnswer(this.d, lease, { ...request, admitted: r.admitted }, answer, {
          messageId,
          latencyMs: performance.now() - heldAt,
          usage: { ...r.usage },
        });
      } catch (err) {
        // The save failed on this side, yet the conversation service may have stored the answer.
        const answered = await this.recovery.answered(runId, conversationId, ctx.meta, r.log).catch(() => null);
        return answered ? this.end(answered.outcome, r.events, answered.timings) : this.fail(r, err);
      }
    }

    // 6. Finish and 7. emit. The conversation holds the answer: recording anything but SUCCEEDED would
    //    contradict it. A failure here crashes the delivery (not an ActionError, so the bus retries) and
    //    the retry completes the run from the answer.
    r.timings['totalMs'] = Math.round(performance.now() - r.startedAt);
    try {
      await r.running;
      return await this.end(outcome, r.events, r.timings);
    } catch (err) {
      throw err instanceof ActionError ? new Error(`recording run ${runId} failed after its answer was saved: ${err.message}`, { cause: err }) : err;
    }
  }

  /** A durable run's checkpoints are needed only while it can still resume. */
  async deleteCheckpoints(runId: string, log: Logger): Promise<void> {
    await this.d.checkpoints?.deleteThread(runId).catch((err: unknown) => log.warn({ err, runId }, 'could not delete the checkpoints of an ended run'));
  }

  /** A run that goes ahead and fails or is stopped before its answer is saved. */
  private async fail(r: Running, err: unknown): Promise<RunOutcome> {
    const failure = classifyFailure(err, r.stop.signal);
    r.timings['totalMs'] = Math.round(performance.now() - r.startedAt);
    const outcome: RunOutcome = {
      runId: r.data.runId,
      conversationId: r.admitted.conversationId,
      status: failure.status,
      usage: r.usage,
      error: failure.ref ? { code: failure.code, message: failure.message, ref: failure.ref } : { code: failure.code, message: failure.message },
    };
    // A rejected double text is an answer to the request itself, not a run outcome.
    if (err instanceof ActionError && err.code === 'busy') outcome.refusal = err;
    await r.running.catch(() => {
      /* the run is failing already; the status write of the failure follows */
    });
    const ended = await this.end(outcome, r.events, r.timings, r.trace && { ...r.trace, log: r.log });
    if (failure.code === 'internal') r.log.error({ err, ref: failure.ref }, 'run failed');
    else r.log.info({ code: failure.code, status: failure.status }, 'run ended early');
    return ended;
  }

  /**
   * The outcome recorded (final status write, with the run's steps), then its terminal event emitted and the event log flushed.
   * Every end passes here; one without an answer whose turn began first leaves its status entry in the
   * conversation (`trace`), before the terminal event, so a client reloading on that event finds it.
   */
  private async end(
    outcome: RunOutcome,
    events: RunEvents,
    timings?: Record<string, number>,
    trace?: { lease: ConversationLease; request: TurnRequest; log: Logger },
  ): Promise<RunOutcome> {
    if (trace && writesConversation(trace.request.admitted)) {
      await saveTurnTrace(this.d, trace.lease, { ...trace.request, admitted: trace.request.admitted }, outcome, trace.log);
    }
    // The record keeps what the terminal event will say and its seq, with the steps: a replay from it once the
    // event log expired (gateway runs/run-follower.ts) matches what the log said.
    const endSeq = events.endSeq();
    const { steps } = events;
    await this.d.runs.finish(outcome.runId, { ...finishOf(outcome, timings), steps: steps.steps, stepsOmitted: steps.omittedCount, endSeq });
    await emitEnd(events, outcome);
    return outcome;
  }

  /** The run's events, numbered after `startAfter`, the last seq an earlier delivery of it logged. */
  private eventsOf(runId: string, ctx: HandlerContext<RunEvent>, startAfter: number): RunEvents {
    return new RunEvents((events, entry) => ctx.emitLogged(events, entry), this.d.prefix, runId, startAfter, this.d.config.tokenWindowMs);
  }
}

/**
 * A RUNNING record on delivery: the worker that ran it died mid-run (the bus redelivered the action
 * after its visibility timeout). Its model call, tool calls and half-streamed answer are gone, and
 * replaying them could repeat side effects (a hand-off, a closed conversation), so the run fails
 * visibly and at once; the user can send the message again. (A run whose answer was saved is
 * completed by recovery instead.) The dead worker's conversation lock is taken over by this delivery
 * (the lock lets its own run id in) and given back when the delivery ends.
 */
function lostRun(runId: string, conversationId: string | null): RunOutcome {
  return {
    runId,
    conversationId,
    status: 'FAILED',
    error: { code: 'worker_lost', message: 'the worker running this run stopped unexpectedly; send the message again' },
  };
}
