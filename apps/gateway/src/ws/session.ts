/**
 * One chat socket: decodes frames, starts and follows runs, answers history. Frames are handled
 * one at a time in arrival order; runs stream concurrently beside them.
 */
import { SpanKind, openSpan, uuidv7 } from '@parley/bus';
import {
  ActionError,
  greetingMessageId,
  Id,
  runAnswerMessageId,
  WsClose,
  type ClientFrame,
  type HandoffFeedEvent,
  type RunEvent,
  type RunResult,
  type ServerFrame,
} from '@parley/contracts';
import { assertNever, toClientError } from '@parley/service-kit';
import type { WebSocket } from '@fastify/websocket';
import type { Logger } from 'pino';
import type { GatewayContext } from '../context.js';
import { userActor, type Actor, type ConversationGrant } from '../auth/access.js';
import type { Principal } from '../auth/verifier.js';
import type { RunSubscription } from '../runs/run-subscription.js';
import { decideApproval } from '../runs/run-approvals.js';
import { followRun } from '../runs/run-follower.js';
import { decodeFrame, frameOf, isTerminal, type RawData } from './frames.js';

interface RunView {
  lastSeq: number;
  ended: boolean;
  /** Set when the run is followed through the event log rather than the live bus call. */
  sub?: RunSubscription;
}

const OPEN = 1;

/**
 * Which conversation a socket opens: the one asked for (it passed the rule for writing at the
 * handshake), a fresh one (`?new=1`), or else the user's latest open one with the socket's agent.
 */
export type ConversationChoice = { grant: ConversationGrant } | { fresh: boolean };

export class ChatSession {
  readonly id = uuidv7();
  alive = true;
  lastActivity = Date.now();
  closing = false;
  private readonly runs = new Map<string, RunView>();
  /** Conversations this socket passed the rule for (grants never go stale: owners and tenants do not change). */
  private readonly grants = new Map<string, ConversationGrant>();
  private readonly actor: Actor;
  private queue: Promise<void> = Promise.resolve();
  /** The frame being handled, named in the error frames it causes. */
  private ref: string | undefined;
  private readonly log: Logger;
  /** The socket's conversation: where chat.message frames without a conversationId write. Set by start(). */
  private conversationId = '';
  /** What the socket's agent says when a conversation opens ('' = nothing). */
  private greeting = '';
  /** New conversations whose greeting is (being) saved, so each is saved once per socket. */
  private readonly greeted = new Set<string>();
  /** Stops the tenant's hand-off feed for this socket (set once start() listens). */
  private stopFeed: (() => void) | undefined;

  constructor(
    readonly socket: WebSocket,
    readonly principal: Principal,
    private readonly choice: ConversationChoice,
    private agentId: string | undefined,
    private readonly ctx: GatewayContext,
    /** The id of the upgrade request (rest/request-id.ts): on the socket's log lines and its error frames. */
    private readonly requestId?: string,
  ) {
    this.log = ctx.log.child({ tenantId: principal.tenantId, sessionId: this.id, ...(requestId ? { requestId } : {}) });
    this.actor = userActor(principal);
  }

  /** Runs still streaming to this socket, with the last seq it was sent (handed over on shutdown). */
  activeRuns(): Array<{ runId: string; lastSeq: number }> {
    return [...this.runs].filter(([, r]) => !r.ended).map(([runId, r]) => ({ runId, lastSeq: r.lastSeq }));
  }

  async start(): Promise<void> {
    const { ws } = this.ctx.config;
    const agent = await this.ctx.agents.pick(this.principal.tenantId, this.agentId).catch((err: unknown) => this.refuseAgent(err));
    if (!agent) return;
    this.agentId = agent.id;
    this.greeting = agent.greeting;
    const grant = await this.openingGrant(agent.id);
    this.conversationId = grant.conversationId;
    this.grants.set(grant.conversationId, grant);
    // Before the welcome, so a person joining right after the history is not missed.
    const stop = await this.ctx.handoffs.feed.listen(this.principal.tenantId, (e) => this.onHandoff(e));
    if (this.closing) stop();
    else this.stopFeed = stop;
    const resumed = !grant.fresh;
    this.send({
      type: 'welcome',
      sessionId: this.id,
      user: { id: this.principal.userId, tenantId: this.principal.tenantId, roles: this.principal.roles },
      conversationId: this.conversationId,
      agent: { id: agent.id, name: agent.name },
      resumed,
      ...(!resumed && this.greeting ? { greeting: this.greeting } : {}),
      limits: { maxFrameBytes: ws.maxFrameBytes, maxTextChars: ws.maxTextChars, messagesPerMinute: this.ctx.config.runs.perMinute },
    });
    if (resumed) await this.sendHistory(this.conversationId, undefined, ws.historyLimit);
    else this.send({ type: 'history', conversationId: this.conversationId, messages: [], hasMore: false });
  }

  private async openingGrant(agentId: string): Promise<ConversationGrant> {
    if ('grant' in this.choice) return this.choice.grant;
    const latest = this.choice.fresh ? null : await this.ctx.conversations.latestOpen(this.actor, agentId);
    return latest ?? this.ctx.conversations.generated(this.actor, uuidv7());
  }

  onMessage(raw: RawData, isBinary: boolean): void {
    this.lastActivity = Date.now();
    const decoded = decodeFrame(raw, isBinary, this.ctx.config.ws);
    if (!decoded.ok) {
      this.ctx.metrics.framesIn.inc({ type: 'invalid' });
      this.error(decoded.code, decoded.message);
      return;
    }
    this.ctx.metrics.framesIn.inc({ type: decoded.frame.type });
    const frame = decoded.frame;
    this.queue = this.queue
      .then(async () => {
        this.ref = frame.type === 'chat.message' ? frame.id : frame.type;
        // chat.message spends the run budget instead (in chat), shared with REST run starts.
        if (frame.type !== 'chat.message' && !(await this.withinFrameBudget())) return;
        return this.handle(frame);
      })
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        this.ref = undefined;
      });
  }

  private async withinFrameBudget(): Promise<boolean> {
    const rate = await this.ctx.limiter.consume('frames', this.principal);
    if (!rate.ok) this.error('rate_limited', `too many requests; retry in ${rate.retryAfterMs} ms`, rate.retryAfterMs);
    return rate.ok;
  }

  private async handle(f: ClientFrame): Promise<void> {
    if (this.closing) return;
    switch (f.type) {
      case 'chat.message':
        return this.chatTurn(f);
      case 'chat.cancel':
        return this.cancel(f.runId);
      case 'history.get':
        if (!(await this.mayUse(f.conversationId, 'read'))) return;
        return this.sendHistory(f.conversationId, f.before, f.limit ?? this.ctx.config.ws.historyLimit);
      case 'conversation.new': {
        // An unknown or archived agent refuses the frame (error frame) before anything changes.
        if (f.agent) {
          const agent = await this.ctx.agents.pick(this.principal.tenantId, f.agent);
          this.agentId = agent.id;
          this.greeting = agent.greeting;
        }
        this.conversationId = uuidv7();
        this.grants.set(this.conversationId, this.ctx.conversations.generated(this.actor, this.conversationId));
        const greeting = this.greeting ? { greeting: this.greeting } : {};
        this.send({ type: 'history', conversationId: this.conversationId, messages: [], hasMore: false, ...greeting });
        return;
      }
      case 'resume':
        return this.resume(f.runId, f.lastSeq);
      case 'approval.decide': {
        const { type: _type, runId, ...body } = f;
        const meta = { tenantId: this.principal.tenantId, userId: this.principal.userId, sessionId: this.id };
        await decideApproval(this.ctx, this.actor, runId, body, meta);
        // The resumed run's events come through its event log: follow it here unless this socket already does.
        const view = this.runs.get(runId);
        if (!view || view.ended) this.follow(runId, view?.lastSeq ?? 0);
        return;
      }
      case 'ping':
        this.send(f.t === undefined ? { type: 'pong' } : { type: 'pong', t: f.t });
        return;
      default:
        assertNever(f, 'client frame');
    }
  }

  /**
   * One chat turn is one trace: this span is its root, open until the run's reply (or the refusal), and
   * the frame queue moves on once the run is started, as without it.
   */
  private async chatTurn(f: Extract<ClientFrame, { type: 'chat.message' }>): Promise<void> {
    const turn = openSpan('ws chat.message', {
      kind: SpanKind.SERVER,
      attributes: { 'parley.tenant.id': this.principal.tenantId, 'parley.session.id': this.id },
    });
    try {
      const running = await turn.within(() => this.chat(f));
      if (running) void running.settled.finally(() => turn.end());
      else turn.end();
    } catch (err) {
      turn.end(err);
      throw err;
    }
  }

  /** Resolves once the run is started, with its settling (boxed: an async function would wait for it) when one was. */
  private async chat(f: Extract<ClientFrame, { type: 'chat.message' }>): Promise<{ settled: Promise<void> } | void> {
    const p = this.principal;
    const actor = this.actor;
    const conversationId = f.conversationId ?? this.conversationId;
    // The rate limit, the message claim and the conversation's hand-off state share one round trip (the
    // state is only looked at once the conversation passed the rule for writing); a refused message
    // gives its claim back.
    const [rate, claim, handled] = await Promise.all([
      this.ctx.limiter.consume('runs', p),
      this.ctx.owners.claimMessage(actor, f.id, uuidv7()),
      this.ctx.handoffs.handling(p.tenantId, conversationId),
    ]);
    if ('taken' in claim) return this.error('conflict', `message id ${f.id} was already used; send it with a new id`);
    const grant = rate.ok ? await this.mayUse(conversationId, 'write') : null;
    if (!grant && claim.fresh) await this.ctx.owners.releaseMessage(actor, f.id, claim.runId);
    if (!rate.ok) return this.error('rate_limited', `too many messages; retry in ${rate.retryAfterMs} ms`, rate.retryAfterMs);
    if (!grant) return;
    // A conversation waiting for or held by a person: the message goes to them, and no bot run starts.
    if (handled) {
      await this.ctx.handoffs.userMessage(p, conversationId, f.id, f.text);
      return this.send({ type: 'chat.delivered', id: f.id, conversationId, messageId: f.id });
    }
    if (claim.fresh && grant.fresh) {
      // A failed save gives the claim back, so the same message can be sent again.
      await this.saveGreeting(conversationId, f.agent ?? this.agentId).catch(async (err: unknown) => {
        await this.ctx.owners.releaseMessage(actor, f.id, claim.runId);
        throw err;
      });
    }
    this.send({ type: 'chat.accepted', id: f.id, runId: claim.runId, conversationId });
    if (!claim.fresh) return this.follow(claim.runId, 0);
    const view: RunView = { lastSeq: 0, ended: false };
    this.runs.set(claim.runId, view);
    const run = {
      runId: claim.runId,
      conversationId,
      input: { text: f.text, messageId: f.id },
      channel: 'web' as const,
      ...((f.agent ?? this.agentId) ? { agentId: f.agent ?? this.agentId } : {}),
    };
    const { result } = await this.ctx.runs.start({
      run,
      principal: p,
      grant,
      sessionId: this.id,
      ownerRecorded: true,
      onEvent: (e) => this.deliver(e, 'live'),
    });
    const settled = result.then(
      (r) => this.settle(claim.runId, r),
      (err: unknown) => this.settleError(claim.runId, err),
    );
    return { settled };
  }

  /** The tenant's hand-off feed, narrowed to this socket's conversations: a person joining, writing, leaving. */
  private onHandoff(e: HandoffFeedEvent): void {
    if (e.type !== 'message' || !this.grants.get(e.conversationId)?.covers(this.actor, e.conversationId, 'read')) return;
    const m = e.message;
    const name = m.handoff?.agent?.name ?? 'A person';
    const conversationId = e.conversationId;
    if (m.role === 'human_agent') this.send({ type: 'human.message', conversationId, messageId: m.messageId, name, text: m.content, createdAt: m.createdAt });
    else if (m.role === 'handoff' && m.handoff?.event === 'joined') this.send({ type: 'agent.joined', conversationId, name });
    else if (m.role === 'handoff' && m.handoff?.event === 'left') this.send({ type: 'agent.left', conversationId, name });
  }

  /**
   * A new conversation keeps the greeting its user saw, as its first message, so a reload or another
   * device shows it again and the model knows what it said. Saved with the first user message rather
   * than when the socket opens: a socket that never speaks (every reload with `new=1`) leaves no
   * empty conversation behind. Before the run starts, so it comes first; idempotent by its id.
   */
  private async saveGreeting(conversationId: string, agentId: string | undefined): Promise<void> {
    const messageId = greetingMessageId(conversationId);
    if (!this.greeting || agentId !== this.agentId || this.greeted.has(conversationId) || !Id.safeParse(messageId).success) return;
    this.greeted.add(conversationId);
    const p = this.principal;
    const msg = { messageId, conversationId, role: 'assistant' as const, content: this.greeting, channel: 'web' as const, metadata: { greeting: true } };
    try {
      await this.ctx.bus.call(
        'conversation.save_message',
        agentId ? { ...msg, agentId } : msg,
        { tenantId: p.tenantId, userId: p.userId, sessionId: this.id },
        { timeoutMs: 5_000 },
      );
    } catch (err) {
      // Not saved: the message that brought it is refused, and its retry tries again.
      this.greeted.delete(conversationId);
      throw err;
    }
  }

  /** A run this socket started, or one the rule lets it touch; anything else (made-up ids too) is `not_found`. */
  private async cancel(runId: string): Promise<void> {
    if (!this.runs.has(runId)) await this.ctx.runAccess.check(this.actor, runId);
    const meta = { tenantId: this.principal.tenantId, userId: this.principal.userId, sessionId: this.id };
    const r = await this.ctx.bus.call('agent.cancel', { runId }, meta, { timeoutMs: 5_000 });
    if (!r.cancelled) this.error('conflict', `run ${runId} is not running`);
  }

  private async resume(runId: string, lastSeq: number): Promise<void> {
    const view = this.runs.get(runId);
    if (view && !view.ended) return; // already streaming to this socket in order
    if (!view) await this.ctx.runAccess.check(this.actor, runId);
    this.follow(runId, lastSeq);
  }

  /** Streams a run from the event log (or its record once the log expired): what was missed, then live, each seq once. */
  private follow(runId: string, afterSeq: number): void {
    const view: RunView = { lastSeq: afterSeq, ended: false };
    this.runs.set(runId, view);
    const meta = { tenantId: this.principal.tenantId, userId: this.principal.userId, sessionId: this.id };
    view.sub = followRun(this.ctx, runId, afterSeq, meta, (e) => this.deliver(e, 'log'));
  }

  private deliver(e: RunEvent, path: 'live' | 'log'): void {
    const view = this.runs.get(e.runId);
    if (!view || view.ended || e.seq <= view.lastSeq) return;
    view.lastSeq = e.seq;
    if (isTerminal(e)) view.ended = true;
    const frame = frameOf(e);
    if (!frame) return;
    this.ctx.metrics.deliveryLag.observe({ path }, Math.max(0, Date.now() - e.at) / 1000);
    this.send(frame);
  }

  /** The reply arrived; if its terminal event never came (lost, or the run was a duplicate), say it from the result. */
  private settle(runId: string, r: RunResult): void {
    const view = this.runs.get(runId);
    if (!view || view.ended) return;
    // Paused for an approval: the delivery ended, the run did not. Whoever decides, any agent-execution replica goes
    // on with it and logs its events, which this socket follows from where the live stream stopped.
    if (r.status === 'PAUSED') {
      this.follow(runId, view.lastSeq);
      return;
    }
    view.ended = true;
    if (r.status === 'SUCCEEDED') {
      const usage = r.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
      this.send({ type: 'agent.message', runId, seq: view.lastSeq + 1, messageId: r.messageId ?? runAnswerMessageId(runId), text: r.text ?? '', usage });
    } else {
      const code = r.status === 'CANCELLED' ? 'cancelled' : (r.error?.code ?? 'handler_error');
      this.send({ type: 'agent.error', runId, code, message: r.error?.message ?? `run ended ${r.status}`, ...(r.error?.ref ? { errorRef: r.error.ref } : {}) });
    }
  }

  private settleError(runId: string, err: unknown): void {
    const view = this.runs.get(runId);
    // On shutdown the bus rejects pending calls; the run goes on and the client resumes elsewhere.
    if (!view || view.ended || this.closing) return;
    view.ended = true;
    const e = toClientError(err, this.log, { runId });
    this.ctx.metrics.errors.inc({ code: e.code });
    this.send({ type: 'agent.error', runId, code: e.code, message: e.message, ...(e.ref ? { errorRef: e.ref } : {}) });
  }

  /** The rule for one conversation, remembered per socket; a refusal is answered with its error frame. */
  private async mayUse(conversationId: string, intent: 'read' | 'write'): Promise<ConversationGrant | null> {
    const known = this.grants.get(conversationId);
    if (known?.covers(this.actor, conversationId, intent)) return known;
    try {
      const grant = await this.ctx.conversations.check(this.actor, conversationId, intent);
      if (!known || grant.intent === 'write') this.grants.set(conversationId, grant);
      return grant;
    } catch (err) {
      if (!(err instanceof ActionError)) throw err;
      this.error(err.code, err.message);
      return null;
    }
  }

  private async sendHistory(conversationId: string, before: number | undefined, limit: number): Promise<void> {
    const p = this.principal;
    const data = before === undefined ? { conversationId, limit } : { conversationId, limit, before };
    try {
      const h = await this.ctx.bus.call('conversation.get_history', data, { tenantId: p.tenantId, userId: p.userId, sessionId: this.id }, { timeoutMs: 5_000 });
      this.send({ type: 'history', conversationId, messages: h.messages, hasMore: h.hasMore });
    } catch (err) {
      if (err instanceof ActionError && err.code === 'not_found') {
        this.send({ type: 'history', conversationId, messages: [], hasMore: false });
        return;
      }
      throw err;
    }
  }

  send(frame: ServerFrame): void {
    if (this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(frame));
    this.ctx.metrics.framesOut.inc({ type: frame.type });
    // A reader that stopped reading: cut it off before its buffer holds the whole run in memory.
    if (this.socket.bufferedAmount > this.ctx.config.ws.maxBufferedBytes) {
      this.log.warn({ buffered: this.socket.bufferedAmount }, 'slow client: dropping the socket');
      this.ctx.metrics.closes.inc({ code: 'slow_consumer' });
      this.socket.terminate();
    }
  }

  error(code: string, message: string, retryAfterMs?: number, errorRef?: string): void {
    this.ctx.metrics.errors.inc({ code });
    const frame: ServerFrame = { type: 'error', code, message };
    if (retryAfterMs !== undefined) frame.retryAfterMs = retryAfterMs;
    if (this.ref !== undefined) frame.ref = this.ref;
    if (errorRef !== undefined) frame.errorRef = errorRef;
    if (this.requestId !== undefined) frame.requestId = this.requestId;
    this.send(frame);
  }

  private fail(err: unknown): void {
    const e = toClientError(err, this.log, { frame: this.ref });
    this.error(e.code, e.message, undefined, e.ref);
  }

  close(code: number, reason: string): void {
    this.closing = true;
    this.ctx.metrics.closes.inc({ code: String(code) });
    if (this.socket.readyState === OPEN) this.socket.close(code, reason);
  }

  /** An agent the socket cannot talk to: an error frame saying why, then close 4404 (never a fallback to another agent). */
  private refuseAgent(err: unknown): null {
    if (!(err instanceof ActionError)) throw err;
    this.error(err.code, err.message);
    this.close(WsClose.noSuchAgent, err.code === 'conflict' ? 'agent archived' : 'no such agent');
    return null;
  }

  /** Socket gone: stop following logs; runs themselves go on (closing a tab never cancels). */
  dispose(): void {
    this.closing = true;
    this.stopFeed?.();
    for (const r of this.runs.values()) r.sub?.close();
    this.runs.clear();
  }
}
