/**
 * Typed client of the Parley chat WebSocket (apps/gateway, DESIGN §4), for browsers and Node.
 * Reconnects on its own and resumes every unfinished run from the last seq it saw, so a run's
 * stream has no gap and no duplicate across reconnects, on any gateway replica.
 */
import { ServerFrame, WsClose, type ClientFrame } from '@parley/contracts';
import { ClientClosedError, ClientOfflineError, DeliveredToPersonError, RequestTimeoutError, ServerError, type ErrorFrame } from './errors.js';
import { RunStream, type RunFrame } from './run-stream.js';
import { resolveWebSocket, textOf, type MinimalWebSocket, type WebSocketCtor } from './transport.js';

export type Welcome = Extract<ServerFrame, { type: 'welcome' }>;
export type History = Extract<ServerFrame, { type: 'history' }>;
export type { ErrorFrame };

export interface ParleyClientOptions {
  /** e.g. `ws://localhost:8080/ws/chat` */
  url: string;
  /** Called on every (re)connect, so an expiring token can be refreshed. */
  token: string | (() => string | Promise<string>);
  /** Without it the server resumes the user's latest open conversation with the agent (see `fresh`). */
  conversationId?: string;
  /** Start a new conversation on the first connect instead of resuming the latest (`?new=1`). */
  fresh?: boolean;
  agent?: string;
  reconnect?: false | { minDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** Every request (a chat message until accepted, history, conversation.new, ping) settles within this, time queued included. Default 30 000. */
  requestTimeoutMs?: number;
  /** Requests held while the socket is down, sent once it is back; past this they fail at once with `ClientOfflineError`. Default 100. */
  maxQueuedRequests?: number;
  WebSocket?: WebSocketCtor;
}

interface Pending {
  ref: string;
  frame: ClientFrame;
  resolve(f: ServerFrame): void;
  reject(e: Error): void;
  /** Runs with the answer as it is dispatched, before the awaiting caller resumes (a microtask later). */
  onAnswer: ((f: ServerFrame) => void) | undefined;
  timer: ReturnType<typeof setTimeout>;
  /** Written to the current socket, so its answer is due on it. Cleared when the socket drops: sent again on the next. */
  sent: boolean;
  /**
   * Timed out after it was sent. Answers carry no request id (only the frame type), so it stays in
   * line to swallow its late answer, which would otherwise settle the next request of its kind.
   */
  abandoned: boolean;
}

const FINAL_CODES = new Set<number>([1000, WsClose.badToken, WsClose.forbidden]);
const newId = () => globalThis.crypto.randomUUID();

export class ParleyClient {
  welcome: Welcome | null = null;
  conversationId: string | undefined;
  private ws: MinimalWebSocket | null = null;
  /** The current socket finished its handshake (welcome + history): requests go out at once. */
  private ready = false;
  /** Why requests cannot even be queued (never connected, closed, gave up reconnecting); null while connected or reconnecting. */
  private down: Error | null = new ClientOfflineError('not connected; call connect() first');
  private readonly runs = new Map<string, RunStream>();
  /** Requests in the order they were (or will be) written to the socket; the server answers in that order. */
  private pending: Pending[] = [];
  /** chat.cancel asked while disconnected, sent on reconnect. */
  private readonly cancels = new Set<string>();
  private readonly listeners = new Set<(f: ServerFrame) => void>();
  private closedByUser = false;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connecting: Promise<{ welcome: Welcome; history: History }> | null = null;
  private readonly reconnect: { minDelayMs: number; maxDelayMs: number; maxAttempts: number } | null;
  private readonly requestTimeoutMs: number;
  private readonly maxQueued: number;

  constructor(private readonly opts: ParleyClientOptions) {
    this.conversationId = opts.conversationId;
    this.reconnect = opts.reconnect === false ? null : { minDelayMs: 100, maxDelayMs: 10_000, maxAttempts: Infinity, ...opts.reconnect };
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.maxQueued = opts.maxQueuedRequests ?? 100;
  }

  /** Resolves with the welcome and the conversation's history. */
  connect(): Promise<{ welcome: Welcome; history: History }> {
    this.closedByUser = false;
    this.down = null;
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** Every frame the server sends, after it parsed against the contract. */
  onFrame(listener: (f: ServerFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends a message; resolves once the server accepted it, with the run's stream. */
  async chat(text: string, opts: { conversationId?: string; agent?: string; id?: string } = {}): Promise<RunStream> {
    const frame: ClientFrame = { type: 'chat.message', id: opts.id ?? newId(), text };
    const conversationId = opts.conversationId ?? this.conversationId;
    if (conversationId) frame.conversationId = conversationId;
    if (opts.agent) frame.agent = opts.agent;
    let run: RunStream | undefined;
    const accepted = await this.request(frame.id, frame, (f) => {
      // Now, not once chat() resumes: the run's frames can arrive in the same read as chat.accepted, and
      // are dispatched before this function continues; with no stream to go to they were dropped.
      if (f.type === 'chat.accepted') run = this.follow(f.runId, 0, f.conversationId, false);
    });
    if (accepted.type === 'chat.delivered') throw new DeliveredToPersonError(accepted);
    if (accepted.type !== 'chat.accepted' || !run) throw new Error(`unexpected ${accepted.type}`);
    return run;
  }

  /** Follows a run started elsewhere (another tab, a REST call), from `lastSeq`. */
  follow(runId: string, lastSeq = 0, conversationId: string | null = null, sendResume = true): RunStream {
    let run = this.runs.get(runId);
    if (!run) {
      run = new RunStream(runId, conversationId, lastSeq, (id) => this.cancel(id));
      this.runs.set(runId, run);
      // While disconnected, afterConnect resumes every unfinished run.
      if (sendResume) this.sendFrame({ type: 'resume', runId, lastSeq });
    }
    return run;
  }

  cancel(runId: string): void {
    if (!this.sendFrame({ type: 'chat.cancel', runId })) this.cancels.add(runId);
  }

  /**
   * A decision on the tool call a paused run waits on (its `approval_requested` step). The run's frames then go on
   * on its stream; a refusal (not waiting any more, arguments that do not fit, not the approver) comes as an `error`
   * frame with `ref: "approval.decide"`. False when offline: nothing was sent, decide again once connected.
   */
  decide(runId: string, approvalId: string, decision: 'approve' | 'edit' | 'reject', extra: { args?: Record<string, unknown>; reason?: string } = {}): boolean {
    return this.sendFrame({ type: 'approval.decide', runId, approvalId, decision, ...extra });
  }

  async history(opts: { conversationId?: string; before?: number; limit?: number } = {}): Promise<History> {
    const conversationId = opts.conversationId ?? this.conversationId ?? this.welcome?.conversationId;
    if (!conversationId) throw new Error('no conversation yet');
    const frame: ClientFrame = { type: 'history.get', conversationId };
    if (opts.before !== undefined) frame.before = opts.before;
    if (opts.limit !== undefined) frame.limit = opts.limit;
    return (await this.request('history.get', frame)) as History;
  }

  async newConversation(agent?: string): Promise<History> {
    const h = (await this.request('conversation.new', agent ? { type: 'conversation.new', agent } : { type: 'conversation.new' })) as History;
    this.conversationId = h.conversationId;
    return h;
  }

  /** Round trip in ms. */
  async ping(): Promise<number> {
    const t = Date.now();
    await this.request('ping', { type: 'ping', t });
    return Date.now() - t;
  }

  close(): void {
    this.closedByUser = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws?.close(1000, 'bye');
    this.failAll(new ClientClosedError(1000, 'closed by the client'));
  }

  /**
   * Every request is safe to send twice, so one whose socket dropped before its answer is sent again
   * on the next socket: chat.message is idempotent by id on the server, history.get is a read, and
   * conversation.new only picks an id (nothing is stored until a message is sent in it).
   */
  private request(ref: string, frame: ClientFrame, onAnswer?: (f: ServerFrame) => void): Promise<ServerFrame> {
    if (this.down) return Promise.reject(this.down);
    if (!this.ready && this.pending.filter((p) => !p.abandoned).length >= this.maxQueued) {
      return Promise.reject(new ClientOfflineError(`reconnecting, and ${this.maxQueued} requests are already waiting; try again once connected`));
    }
    return new Promise((resolve, reject) => {
      const p: Pending = {
        ref,
        frame,
        resolve,
        reject,
        onAnswer,
        sent: false,
        abandoned: false,
        timer: setTimeout(() => this.timeOut(p), this.requestTimeoutMs),
      };
      this.pending.push(p);
      if (this.ready) this.write(p);
    });
  }

  private timeOut(p: Pending): void {
    if (p.sent) p.abandoned = true;
    else this.pending = this.pending.filter((x) => x !== p);
    p.reject(new RequestTimeoutError(p.ref, this.requestTimeoutMs));
  }

  private write(p: Pending): void {
    p.sent = this.sendFrame(p.frame);
  }

  /** False when there is no handshaken socket; the caller keeps the frame for the next one. */
  private sendFrame(frame: ClientFrame): boolean {
    if (!this.ready || this.ws?.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private async open(): Promise<{ welcome: Welcome; history: History }> {
    const WS = await resolveWebSocket(this.opts.WebSocket);
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const url = new URL(this.opts.url);
    url.searchParams.set('token', token);
    const conversationId = this.conversationId ?? this.welcome?.conversationId;
    if (conversationId) url.searchParams.set('conversationId', conversationId);
    else if (this.opts.fresh) url.searchParams.set('new', '1');
    if (this.opts.agent) url.searchParams.set('agent', this.opts.agent);
    const ws = new WS(url.toString());
    this.ws = ws;
    this.ready = false;
    return new Promise((resolve, reject) => {
      let welcome: Welcome | null = null;
      let settled = false;
      ws.addEventListener('message', (ev) => {
        void textOf(ev.data).then((text) => {
          const frame = parseFrame(text);
          if (!frame || this.ws !== ws) return;
          if (!settled && frame.type === 'welcome') {
            welcome = frame;
            return;
          }
          if (!settled && frame.type === 'history' && welcome) {
            settled = true;
            this.welcome = welcome;
            this.conversationId = frame.conversationId;
            this.attempts = 0;
            this.afterConnect();
            resolve({ welcome, history: frame });
            return;
          }
          this.dispatch(frame);
        });
      });
      ws.addEventListener('error', () => {});
      ws.addEventListener('close', (ev) => {
        if (!settled) {
          settled = true;
          reject(new ClientClosedError(ev.code, ev.reason));
        }
        // A socket replaced by a newer one says nothing about the connection.
        if (this.ws !== ws) return;
        this.ws = null;
        this.ready = false;
        this.onClosed(ev.code, ev.reason);
      });
    });
  }

  /** After a (re)connect: send what waited (chat messages keep their ids), resume unfinished runs, cancel what was cancelled offline. */
  private afterConnect(): void {
    this.ready = true;
    for (const p of this.pending) if (!p.sent) this.write(p);
    for (const run of this.runs.values()) if (!run.done) this.sendFrame({ type: 'resume', runId: run.runId, lastSeq: run.lastSeq });
    for (const runId of this.cancels) this.sendFrame({ type: 'chat.cancel', runId });
    this.cancels.clear();
  }

  private dispatch(frame: ServerFrame): void {
    for (const l of this.listeners) l(frame);
    switch (frame.type) {
      case 'agent.token':
      case 'agent.step':
      case 'agent.message':
      case 'agent.error':
        return this.toRun(frame);
      case 'chat.accepted':
      case 'chat.delivered':
        return this.settle((p) => p.ref === frame.id, frame);
      case 'history':
        return this.settle((p) => p.ref === 'history.get' || p.ref === 'conversation.new', frame);
      case 'pong':
        return this.settle((p) => p.ref === 'ping', frame);
      case 'error':
        if (frame.ref) this.settle((p) => p.ref === frame.ref, frame);
        return;
      default:
        return;
    }
  }

  private toRun(frame: RunFrame): void {
    const run = this.runs.get(frame.runId);
    if (!run) return;
    run.push(frame);
    if (run.done) this.runs.delete(frame.runId);
  }

  /** The oldest request sent on this socket that the frame can answer (the server answers in order). */
  private settle(answers: (p: Pending) => boolean, frame: ServerFrame): void {
    const i = this.pending.findIndex((p) => p.sent && answers(p));
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    if (!p || p.abandoned) return;
    clearTimeout(p.timer);
    if (frame.type === 'error') return p.reject(new ServerError(frame));
    p.onAnswer?.(frame);
    p.resolve(frame);
  }

  private onClosed(code: number, reason: string): void {
    // Answers to this socket's requests will never come: abandoned ones are done, the others wait for the next socket.
    this.pending = this.pending.filter((p) => !p.abandoned);
    for (const p of this.pending) p.sent = false;
    const final = this.closedByUser || !this.reconnect || FINAL_CODES.has(code) || this.attempts >= (this.reconnect?.maxAttempts ?? 0);
    if (final) return this.failAll(new ClientClosedError(code, reason));
    const r = this.reconnect as NonNullable<typeof this.reconnect>;
    // Too many sockets: the server counts ours for a while, so back off harder.
    const base = code === WsClose.tooManyConnections ? r.maxDelayMs : r.minDelayMs;
    const delay = Math.min(r.maxDelayMs, base * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closedByUser || this.ready) return;
      this.connect().catch((err: unknown) => {
        // A failed attempt whose socket closed already scheduled the next; one that failed before (token()) schedules it here.
        if (!(err instanceof ClientClosedError) && !this.closedByUser) this.onClosed(1006, err instanceof Error ? err.message : String(err));
      });
    }, delay);
  }

  private failAll(err: Error): void {
    this.down = err;
    this.ready = false;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      if (!p.abandoned) p.reject(err);
    }
    this.cancels.clear();
    for (const run of this.runs.values()) run.abort(err);
    this.runs.clear();
  }
}

function parseFrame(text: string): ServerFrame | null {
  try {
    const r = ServerFrame.safeParse(JSON.parse(text));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
