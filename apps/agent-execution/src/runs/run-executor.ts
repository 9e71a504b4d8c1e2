import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ActionMeta, Bus, HandlerContext } from '@parley/bus';
import { ActionError, type AgentRun, type Catalog, type RunEvent, type RunRecord, type RunResult, type Usage } from '@parley/contracts';
import type { ModelClient } from '@parley/llm';
import type { AgentExecutionConfig } from '../env.js';
import type { FlowRegistry } from '../flows/define-flow.js';
import type { AgentStore } from '../stores/agent-store.js';
import { withDbRetry, type DbRetry } from '../stores/db-retry.js';
import { isTerminal, type RunStore } from '../stores/run-store.js';
import type { ToolDef } from '../tools/define-tool.js';
import { admit, type Admitted } from './admission.js';
import { RunStopped, type CancelHub } from './cancel-hub.js';
import type { ConversationLock } from './conversation-lock.js';
import { ConversationTurn } from './conversation-turn.js';
import type { ConversationPort } from './conversation-port.js';
import { RunAnswers } from './run-answers.js';
import { classifyFailure } from './run-errors.js';
import { RunEvents } from './run-events.js';
import { RunRecovery } from './run-recovery.js';
import { executeFlow } from './execute-flow.js';

export interface ExecutorDeps {
  bus: Bus<Catalog>;
  /** Auto-pipelined command connection for event logs, locks and cancel marks. */
  redis: Redis;
  prefix: string;
  agents: AgentStore;
  runs: RunStore;
  flows: FlowRegistry;
  tools: readonly ToolDef[];
  model: ModelClient;
  cancels: CancelHub;
  lock: ConversationLock;
  conversation: ConversationPort;
  config: AgentExecutionConfig['runs'];
  /** Retries of database reads and writes through a short PostgreSQL outage. */
  dbRetry: DbRetry;
  log: Logger;
}

const ZERO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

/** agent.run from envelope to reply: admission, record, crash recovery, then the flow. */
export class RunExecutor {
  private readonly answers: RunAnswers;
  private readonly recovery: RunRecovery;

  constructor(private readonly d: ExecutorDeps) {
    this.answers = new RunAnswers(d.redis, d.prefix);
    this.recovery = new RunRecovery({ bus: d.bus, runs: d.runs, answers: this.answers });
  }

  async run(data: AgentRun, ctx: HandlerContext<RunEvent>): Promise<RunResult> {
    const tenantId = ctx.action.tenantId;
    const live = (e: RunEvent) => ctx.emit(e);
    let admitted: Admitted;
    try {
      // The agent is read from PostgreSQL: an outage is waited out rather than spending a delivery.
      admitted = await withDbRetry(() => admit(this.d.agents, this.d.flows, tenantId, data, ctx.action.conversationId), this.d.dbRetry);
    } catch (err) {
      // The caller gets the error reply; a client following the run's event log sees it end too.
      if (err instanceof ActionError) {
        const events = new RunEvents(this.d.redis, this.d.prefix, data.runId, live, await RunEvents.lastSeq(this.d.redis, this.d.prefix, data.runId));
        events.emit('run.failed', { status: 'FAILED', code: err.code, message: err.message });
        await events.flush();
      }
      throw err;
    }
    const { agent, flow, conversationId } = admitted;
    // Tracked before the early-cancel lookup, so a cancel arriving in between still reaches the run;
    // the lookup shares the insert's wait instead of following it.
    const controller = this.d.cancels.track(data.runId);
    const onWorkerAbort = () => controller.abort(new RunStopped({ kind: 'shutdown' }));
    ctx.signal.addEventListener('abort', onWorkerAbort, { once: true });
    const cancelChecked = this.d.cancels.requested(data.runId).then((early) => {
      if (early) controller.abort(new RunStopped(early));
    });
    let settleFresh: (fresh: boolean) => void = () => {};
    const fresh = new Promise<boolean>((resolve) => (settleFresh = resolve));
    const meta: ActionMeta = conversationId ? { ...ctx.meta, conversationId } : (({ conversationId: _c, ...m }) => m)(ctx.meta);
    const turn = new ConversationTurn(this.d, { admitted, runId: data.runId, channel: data.channel, meta, signal: controller.signal, cancelChecked, fresh });
    try {
      const [{ record, created }] = await Promise.all([
        this.d.runs.create({ runId: data.runId, tenantId, agentId: agent.agentId, flow: flow.name, conversationId, channel: data.channel, ownerId: ctx.action.userId ?? null, input: data.input }),
        cancelChecked,
      ]);
      settleFresh(created || record.status === 'PENDING');
      return await this.proceed(data, admitted, record, created, turn, controller, ctx);
    } finally {
      settleFresh(false);
      await turn.release().catch((e: unknown) => ctx.log.warn({ err: e, runId: data.runId }, 'could not release the conversation lock; it expires by itself'));
      ctx.signal.removeEventListener('abort', onWorkerAbort);
      this.d.cancels.untrack(data.runId, controller);
    }
  }

  /** The run is recorded: answer a finished duplicate, recover a redelivery, or execute. */
  private async proceed(data: AgentRun, admitted: Admitted, record: RunRecord, created: boolean, turn: ConversationTurn, controller: AbortController, ctx: HandlerContext<RunEvent>): Promise<RunResult> {
    const { conversationId } = admitted;
    if (!created && isTerminal(record.status)) return this.recovery.replay(record);
    const startAfter = created ? 0 : await RunEvents.lastSeq(this.d.redis, this.d.prefix, data.runId);
    const events = new RunEvents(this.d.redis, this.d.prefix, data.runId, (e) => ctx.emit(e), startAfter, this.d.config.tokenWindowMs);
    if (!created) {
      // A previous delivery (a dead worker, or this process before it crashed) may have saved the answer.
      const done = await this.recovery.completeIfAnswered(data.runId, conversationId, ctx.meta, events, ctx.log);
      if (done) return done;
      if (record.status === 'RUNNING') return this.failLostRun(data.runId, conversationId, events, ctx.log);
    }
    return this.execute(data, admitted, turn, events, ctx, controller);
  }

  /**
   * A RUNNING record on delivery means the worker that ran it died mid-run (the bus redelivered the
   * action after its visibility timeout). Its model call, tool calls and half-streamed answer are gone
   * and replaying them could repeat side effects (a hand-off, a closed conversation), so the run is
   * failed with `worker_lost`, visibly and at once; the user can send the message again. (A run whose
   * answer was already saved is completed by RunRecovery instead.) The dead worker's conversation lock
   * is this run's turn (it takes a lock its own run id holds), given back when the delivery ends.
   */
  private async failLostRun(runId: string, conversationId: string | null, events: RunEvents, log: Logger): Promise<RunResult> {
    const message = 'the worker running this run stopped unexpectedly; send the message again';
    await this.d.runs.finish(runId, { status: 'FAILED', error: { code: 'worker_lost', message } });
    events.emit('run.failed', { status: 'FAILED', code: 'worker_lost', message });
    await events.flush();
    log.warn({ runId }, 'run found RUNNING on redelivery; marked failed (worker_lost)');
    return { runId, status: 'FAILED', conversationId, error: { code: 'worker_lost', message } };
  }

  private async execute(data: AgentRun, admitted: Admitted, turn: ConversationTurn, events: RunEvents, ctx: HandlerContext<RunEvent>, controller: AbortController): Promise<RunResult> {
    const { agent, conversationId } = admitted;
    const runId = data.runId;
    const log = ctx.log.child({ runId, agentId: agent.agentId, flow: admitted.flow.name });
    const signal = controller.signal;
    const usage: Usage = { ...ZERO_USAGE };
    const timings: Record<string, number> = {};
    const started = performance.now();
    let maxRunTimer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    /** 'saving': the answer exists and is being saved; 'saved': the conversation holds it, only the record is left. */
    let phase = 'flow' as 'flow' | 'saving' | 'saved';
    const produced = async (a: { text: string; output?: unknown; messageId?: string }) => {
      await this.answers.put(runId, { ...a, usage: { ...usage }, timings: { ...timings } });
      phase = 'saving';
    };
    try {
      // Every run that names a conversation takes its lock, whatever the flow: runs of one conversation never overlap.
      await turn.locked;
      const turnStarted = performance.now();
      if (conversationId) timings['queueMs'] = turn.queueMs;
      if (signal.aborted) throw signal.reason;
      maxRunTimer = setTimeout(() => controller.abort(new RunStopped({ kind: 'timeout', afterMs: agent.maxRunMs })), agent.maxRunMs);
      // Not awaited here: the flow starts meanwhile; the record is RUNNING before it can be finished.
      running = this.d.runs.markRunning(runId);
      running.catch(() => { /* awaited below on every path; this only stops an unhandled rejection */ });
      events.emit('run.started', { agentId: agent.agentId, flow: admitted.flow.name, conversationId });
      const messages = await turn.context;
      if (conversationId && admitted.flow.conversation !== 'none') timings['contextMs'] = turn.contextMs;
      const out = await executeFlow({ ...this.d, admitted, runId, tenantId: ctx.action.tenantId, roles: ctx.action.roles ?? [], channel: data.channel, meta: turn.meta, messages, startedAt: turnStarted, events, signal, usage, timings, log, fence: turn.fence, produced });
      phase = 'saved';
      timings['totalMs'] = Math.round(performance.now() - started);
      await running;
      await this.d.runs.finish(runId, { status: 'SUCCEEDED', output: out.output ?? { text: out.text }, usage, timings });
      const completed: Omit<Extract<RunEvent, { type: 'run.completed' }>, 'type' | 'runId' | 'seq' | 'at'> = { text: out.text, usage };
      if (out.output !== undefined) completed.output = out.output;
      if (out.messageId) completed.messageId = out.messageId;
      events.emit('run.completed', completed);
      await events.flush();
      const result: RunResult = { runId, status: 'SUCCEEDED', conversationId, text: out.text, usage };
      if (out.output !== undefined) result.output = out.output;
      if (out.messageId) result.messageId = out.messageId;
      return result;
    } catch (err) {
      // The answer is saved: recording anything but SUCCEEDED would contradict the history. Crash
      // instead (not an ActionError, so the bus retries), and the retry completes the run from the answer.
      if (phase === 'saved') throw err instanceof ActionError ? new Error(`recording run ${runId} failed after its answer was saved: ${err.message}`, { cause: err }) : err;
      // Saving failed or timed out on our side, yet the conversation service may have stored the answer.
      if (phase === 'saving') {
        const done = await this.recovery.completeIfAnswered(runId, conversationId, ctx.meta, events, log).catch(() => null);
        if (done) return done;
      }
      const failure = classifyFailure(err, signal);
      timings['totalMs'] = Math.round(performance.now() - started);
      const error = failure.ref ? { code: failure.code, message: failure.message, ref: failure.ref } : { code: failure.code, message: failure.message };
      await running?.catch(() => { /* the run is failing already; the status write of the failure follows */ });
      await this.d.runs.finish(runId, { status: failure.status, error, usage, timings });
      events.emit('run.failed', { status: failure.status, ...error });
      await events.flush();
      if (failure.code === 'internal') log.error({ err, ref: failure.ref }, 'run failed');
      else log.info({ code: failure.code, status: failure.status }, 'run ended early');
      // A rejected double text is an answer to the request itself, not a run outcome.
      if (err instanceof ActionError && err.code === 'busy') throw err;
      return { runId, status: failure.status, conversationId, usage, error };
    } finally {
      clearTimeout(maxRunTimer);
    }
  }
}
