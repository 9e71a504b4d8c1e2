import { setTimeout as wait } from 'node:timers/promises';
import type { ActionMeta } from '@parley/bus';
import { ActionError, runAnswerMessageId, runTurnMessageId, runUserMessageId, type Channel, type Usage } from '@parley/contracts';
import { countMessageTokens } from '@parley/llm';
import type { AgentExecutionConfig } from '../../env.js';
import type { ChatMessage } from '../flows/define-flow.js';
import type { Admitted } from './admission.js';
import type { CancelHub } from './cancel-hub.js';
import { ConversationLock, type LockGrant } from './conversation-lock.js';
import type { ConversationPort } from './conversation-port.js';
import type { FlowAnswer } from './run-flow.js';

export interface TurnDeps {
  lock: ConversationLock;
  cancels: CancelHub;
  conversation: ConversationPort;
  config: AgentExecutionConfig['runs'];
}

/**
 * A run's hold on its conversation: the lock (one run at a time per conversation, across replicas),
 * renewed while held. Creating one takes nothing; `tryTake` (one attempt) and `acquire` (waiting per the
 * agent's policy) do, `release` gives it back (and stops an acquire still waiting). Every run that names
 * a conversation takes it, whatever its flow.
 */
export class ConversationLease {
  private grant: LockGrant | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private acquiring: Promise<unknown> = Promise.resolve();
  /** Aborted by release(), so an acquire nobody waits for any more stops waiting. */
  private readonly released = new AbortController();

  constructor(
    private readonly d: TurnDeps,
    readonly conversationId: string | null,
    private readonly runId: string,
  ) {}

  /** The lock holder the run's conversation saves name (see ConversationLock); undefined until held. */
  get fence(): string | undefined {
    return this.grant ? ConversationLock.holder(this.runId, this.grant) : undefined;
  }

  /** One attempt at the lock, without waiting: true when the run holds its conversation (or names none). */
  async tryTake(): Promise<boolean> {
    const { conversationId, runId } = this;
    if (!conversationId || this.grant) return true;
    const got = await this.d.lock.tryAcquire(conversationId, runId);
    if (!('token' in got)) return false;
    this.hold(conversationId, got);
    return true;
  }

  /**
   * Waits for the conversation per the agent's double-texting policy (at once when `tryTake` got it). `fresh`:
   * this delivery starts the run (its record says so); only a contended lock asks, so a duplicate delivery neither
   * interrupts the conversation's active run nor is refused on its behalf.
   */
  acquire(policy: 'enqueue' | 'reject' | 'interrupt', fresh: boolean, signal: AbortSignal): Promise<void> {
    const acquired = this.take(policy, fresh, this.bound(signal));
    this.acquiring = acquired.catch(() => {
      /* the caller of acquire sees the failure; release only waits for it to end */
    });
    return acquired;
  }

  /** `signal`, also aborted once the lease is released: work for the conversation stops with it. */
  bound(signal: AbortSignal): AbortSignal {
    return AbortSignal.any([signal, this.released.signal]);
  }

  private async take(policy: 'enqueue' | 'reject' | 'interrupt', fresh: boolean, signal: AbortSignal): Promise<void> {
    const { conversationId, runId } = this;
    if (!conversationId || this.grant) return;
    const deadline = Date.now() + this.d.config.queueWaitMs;
    const interrupted = new Set<string>();
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const got = await this.d.lock.tryAcquire(conversationId, runId);
      if ('token' in got) {
        this.hold(conversationId, got);
        return;
      }
      if (!fresh) throw new Error(`run ${runId} was delivered again; it does not wait for the conversation`);
      if (policy === 'reject') {
        throw new ActionError(
          'busy',
          `conversation ${conversationId} already has an active run (${got.holder}); this agent rejects new messages until it ends`,
          { retryable: true, details: { activeRunId: got.holder } },
        );
      }
      if (policy === 'interrupt' && !interrupted.has(got.holder)) {
        interrupted.add(got.holder);
        await this.d.cancels.cancel(got.holder, { kind: 'interrupted', by: runId });
      }
      if (signal.aborted) throw signal.reason;
      if (Date.now() > deadline)
        throw new ActionError('busy', `conversation ${conversationId} stayed busy for ${this.d.config.queueWaitMs} ms (run ${got.holder}); try again later`, {
          retryable: true,
        });
      await wait(delay, undefined, { signal }).catch(() => {
        /* an abort ends the wait early; the next round sees it */
      });
    }
  }

  private hold(conversationId: string, grant: LockGrant): void {
    this.grant = grant;
    const renew = () =>
      void this.d.lock.renew(conversationId, this.runId, grant).catch(() => {
        /* a failed renewal shows as a lost lease at the fence check */
      });
    this.renewTimer = setInterval(renew, Math.floor(this.d.config.lockTtlMs / 3));
    this.renewTimer.unref();
  }

  async release(): Promise<void> {
    this.released.abort(new Error('the conversation was released'));
    await this.acquiring;
    clearInterval(this.renewTimer);
    const grant = this.grant;
    this.grant = undefined;
    if (this.conversationId && grant) await this.d.lock.release(this.conversationId, this.runId, grant);
  }
}

export interface TurnRequest {
  admitted: Admitted;
  runId: string;
  channel: Channel;
  meta: ActionMeta;
  /** Aborted by a cancel, an early one (looked up before the run's record was written) included. */
  signal: AbortSignal;
  /** See ConversationLease.acquire. */
  fresh: boolean;
  /** A paused run going on: its user message is saved already, so the turn only reads the context. */
  resuming?: boolean;
}

/** The start of a run's turn: its conversation held and the model's messages loaded. */
export interface Turn {
  /** The agent's system prompt, then the conversation's turns that fit the rest of the budget. */
  messages: ChatMessage[];
  /** performance.now() once the conversation was the run's: an answer's latency counts from here, queueing excluded. */
  heldAt: number;
  queueMs: number;
  contextMs: number;
}

/** Whether the run writes to its conversation: the user's message when it begins, the answer when it ends. */
export const writesConversation = (a: Admitted): a is Admitted & { conversationId: string } => a.conversationId !== null && a.flow.conversation === 'write';

/**
 * Lock, then the user's message saved and the context read in one `conversation.begin_turn` (a read
 * only flow gets the context, a flow without conversation only the system prompt). The system prompt
 * is the agent's and only the agent's: its tokens are taken from the budget here, once, and the
 * conversation service is asked for turns in the rest.
 */
export async function beginTurn(d: TurnDeps, lease: ConversationLease, r: TurnRequest): Promise<Turn> {
  const startedAt = performance.now();
  const { agent, flow, conversationId, input } = r.admitted;
  // Released, the lease stops what the turn still waits on.
  const signal = lease.bound(r.signal);
  await lease.acquire(agent.doubleTexting, r.fresh, signal);
  const heldAt = performance.now();
  const queueMs = Math.round(heldAt - startedAt);
  const system: ChatMessage = { role: 'system', content: agent.systemPrompt };
  const user = flow.userMessage?.(input);
  if (!conversationId || flow.conversation === 'none') {
    return { messages: user ? [system, { role: 'user', content: user.text }] : [system], heldAt, queueMs, contextMs: 0 };
  }
  // A cancel that came before the run began saves nothing of it.
  if (signal.aborted) throw signal.reason;
  const budget = Math.max(256, d.config.contextMaxTokens - promptTokens(system, agent.model));
  const context =
    flow.conversation === 'write' && user && !r.resuming
      ? await d.conversation.beginTurn(
          r.meta,
          conversationId,
          r.runId,
          agent.agentId,
          r.channel,
          { messageId: user.messageId ?? runUserMessageId(r.runId), role: 'user', content: user.text },
          { maxTokens: budget },
          lease.fence,
          signal,
        )
      : await d.conversation.context(r.meta, conversationId, budget, signal);
  // The agent's prompt is authoritative: a stored system message (an older prompt) is not sent twice.
  return { messages: [system, ...context.filter((m) => m.role !== 'system')], heldAt, queueMs, contextMs: Math.round(performance.now() - heldAt) };
}

/** The flow's intermediate turns, then its answer, saved to the conversation under the run's lock. */
export async function saveAnswer(
  d: TurnDeps,
  lease: ConversationLease,
  r: TurnRequest & { admitted: { conversationId: string } },
  answer: FlowAnswer,
  saved: { messageId: string; latencyMs: number; usage: Usage },
): Promise<void> {
  const { agent, conversationId } = r.admitted;
  for (const [i, turn] of answer.turns.entries()) {
    await d.conversation.save(
      r.meta,
      conversationId,
      r.runId,
      agent.agentId,
      r.channel,
      { messageId: runTurnMessageId(r.runId, i + 1), ...turn },
      lease.fence,
      r.signal,
    );
  }
  await d.conversation.save(
    r.meta,
    conversationId,
    r.runId,
    agent.agentId,
    r.channel,
    { messageId: saved.messageId, role: 'assistant', content: answer.text, model: agent.model, latencyMs: saved.latencyMs, usage: saved.usage },
    lease.fence,
    r.signal,
  );
}

/** The message id a run's answer is saved under, when it saves one. */
export const answerMessageIdOf = (a: Admitted, runId: string): string | undefined => (writesConversation(a) ? runAnswerMessageId(runId) : undefined);

/** Token counts of system prompts, kept per model and prompt: a tenant's prompt rarely changes and is not tokenized per run. */
const promptTokenCache = new Map<string, number>();
function promptTokens(prompt: ChatMessage, model: string): number {
  const key = `${model}\u0000${prompt.content}`;
  let n = promptTokenCache.get(key);
  if (n === undefined) {
    if (promptTokenCache.size >= 1_000) promptTokenCache.clear();
    n = countMessageTokens(prompt, model);
    promptTokenCache.set(key, n);
  }
  return n;
}
