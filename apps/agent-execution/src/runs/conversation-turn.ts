import { setTimeout as wait } from 'node:timers/promises';
import type { ActionMeta } from '@parley/bus';
import { ActionError, runUserMessageId, type Channel } from '@parley/contracts';
import { countMessageTokens } from '@parley/llm';
import type { AgentExecutionConfig } from '../env.js';
import type { ChatMessage } from '../flows/define-flow.js';
import type { Admitted } from './admission.js';
import type { CancelHub } from './cancel-hub.js';
import { ConversationLock, type LockGrant } from './conversation-lock.js';
import type { ConversationPort } from './conversation-port.js';

export interface TurnDeps {
  lock: ConversationLock;
  cancels: CancelHub;
  conversation: ConversationPort;
  config: AgentExecutionConfig['runs'];
}

export interface TurnRequest {
  admitted: Admitted;
  runId: string;
  channel: Channel;
  meta: ActionMeta;
  signal: AbortSignal;
  /** Settles once an early cancel was looked up (and the signal aborted if there was one): no message is saved before. */
  cancelChecked: Promise<void>;
  /**
   * Settles once the run record says whether this delivery starts the run (false: a finished or lost
   * run delivered again). Only a contended lock waits for it: a duplicate must not interrupt the
   * conversation's active run nor be refused as busy on its behalf.
   */
  fresh: Promise<boolean>;
}

/**
 * The conversation side of a run's start: its lock (per the agent's double-texting policy), then the
 * user's message saved and the context read (one `conversation.begin_turn`). None of it needs the run
 * record, so the executor starts it beside the record's insert: the first token waits for the longer
 * of the two rather than their sum. `release` gives the conversation back, whatever happened.
 */
export class ConversationTurn {
  /** Resolves once the conversation is this run's (at once without a conversation). */
  readonly locked: Promise<void>;
  /** The model's messages: the agent's system prompt, then the conversation's turns that fit the budget. */
  readonly context: Promise<ChatMessage[]>;
  queueMs = 0;
  contextMs = 0;
  private grant: LockGrant | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private released = false;
  /** Aborted by the run's signal, or by release() so a turn nobody waits for stops waiting. */
  private readonly controller = new AbortController();
  private readonly startedAt = performance.now();

  constructor(
    private readonly d: TurnDeps,
    private readonly r: TurnRequest,
  ) {
    if (r.signal.aborted) this.onRunAbort();
    else r.signal.addEventListener('abort', this.onRunAbort, { once: true });
    this.locked = this.lock();
    this.context = this.locked.then(() => this.load());
    // Awaited by execute() when the run goes ahead; a duplicate never looks at them.
    this.locked.catch(() => { /* awaited by execute(); this only keeps a duplicate from an unhandled rejection */ });
    this.context.catch(() => { /* awaited by execute(); this only keeps a duplicate from an unhandled rejection */ });
  }

  private readonly onRunAbort = () => this.controller.abort(this.r.signal.reason);

  /** The run's envelope meta, naming its conversation. */
  get meta(): ActionMeta {
    return this.r.meta;
  }

  /** The lock holder the run's conversation saves require (see ConversationLock); undefined until locked. */
  get fence(): string | undefined {
    return this.grant ? ConversationLock.holder(this.r.runId, this.grant) : undefined;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.r.signal.removeEventListener('abort', this.onRunAbort);
    this.controller.abort(new Error('the turn was released'));
    await this.locked.catch(() => { /* releasing: how the lock wait ended no longer matters */ });
    clearInterval(this.renewTimer);
    const { conversationId } = this.r.admitted;
    if (conversationId && this.grant) await this.d.lock.release(conversationId, this.r.runId, this.grant);
  }

  private async lock(): Promise<void> {
    const { conversationId, agent } = this.r.admitted;
    if (!conversationId) return;
    const grant = await this.acquire(conversationId, agent.doubleTexting);
    this.grant = grant;
    this.queueMs = Math.round(performance.now() - this.startedAt);
    const renew = () => void this.d.lock.renew(conversationId, this.r.runId, grant).catch(() => { /* a failed renewal shows as a lost lease at the fence check */ });
    this.renewTimer = setInterval(renew, Math.floor(this.d.config.lockTtlMs / 3));
    this.renewTimer.unref();
  }

  private async acquire(conversationId: string, policy: 'enqueue' | 'reject' | 'interrupt'): Promise<LockGrant> {
    const { runId } = this.r;
    const signal = this.controller.signal;
    const deadline = Date.now() + this.d.config.queueWaitMs;
    const interrupted = new Set<string>();
    let delay = 5;
    for (;;) {
      const got = await this.d.lock.tryAcquire(conversationId, runId);
      if ('token' in got) return got;
      if (!(await this.r.fresh)) throw new Error(`run ${runId} was delivered again; it does not wait for the conversation`);
      if (policy === 'reject') {
        throw new ActionError('busy', `conversation ${conversationId} already has an active run (${got.holder}); this agent rejects new messages until it ends`, { retryable: true, details: { activeRunId: got.holder } });
      }
      if (policy === 'interrupt' && !interrupted.has(got.holder)) {
        interrupted.add(got.holder);
        await this.d.cancels.cancel(got.holder, { kind: 'interrupted', by: runId });
      }
      if (signal.aborted) throw signal.reason;
      if (Date.now() > deadline) throw new ActionError('busy', `conversation ${conversationId} stayed busy for ${this.d.config.queueWaitMs} ms (run ${got.holder}); try again later`, { retryable: true });
      // An abort ends the wait early; the next round sees it.
      await wait(delay, undefined, { signal }).catch(() => { /* an abort ends the wait early; the next round sees it */ });
      delay = Math.min(delay * 2, 100);
    }
  }

  private async load(): Promise<ChatMessage[]> {
    const { agent, flow, conversationId, input } = this.r.admitted;
    const memory = conversationId ? flow.conversation : 'none';
    const user = flow.userMessage?.(input);
    const system: ChatMessage = { role: 'system', content: agent.systemPrompt };
    if (memory === 'none' || !conversationId) return user ? [system, { role: 'user', content: user.text }] : [system];
    await this.r.cancelChecked;
    const signal = this.controller.signal;
    // A cancel that came before the run began saves nothing of it.
    if (signal.aborted) throw signal.reason;
    const t0 = performance.now();
    const budget = Math.max(256, this.d.config.contextMaxTokens - promptTokens(system, agent.model));
    const { meta, runId, channel } = this.r;
    const context =
      memory === 'write' && user
        ? await this.d.conversation.beginTurn(meta, conversationId, runId, agent.agentId, channel, { messageId: user.messageId ?? runUserMessageId(runId), role: 'user', content: user.text }, { maxTokens: budget }, this.fence, signal)
        : await this.d.conversation.context(meta, conversationId, budget, signal);
    this.contextMs = Math.round(performance.now() - t0);
    // The agent's prompt is authoritative: a stored system message (an older prompt) is not sent twice.
    return [system, ...context.filter((m) => m.role !== 'system')];
  }
}

/** Token counts of system prompts: a tenant's prompt rarely changes and was tokenized on every run. */
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
