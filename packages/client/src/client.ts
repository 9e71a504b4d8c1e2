/**
 * Typed client of the Parley chat WebSocket (apps/gateway, DESIGN §4), for browsers and Node.
 * Reconnects on its own and resumes every unfinished run from the last seq it saw, so a run's
 * stream has no gap and no duplicate across reconnects, on any gateway replica.
 */
import { ServerFrame, WsClose, type ClientFrame } from '@parley/contracts';
import { RunStream, type RunFrame } from './run-stream.js';
import { resolveWebSocket, textOf, type MinimalWebSocket, type WebSocketCtor } from './transport.js';

export type Welcome = Extract<ServerFrame, { type: 'welcome' }>;
export type History = Extract<ServerFrame, { type: 'history' }>;
export type ErrorFrame = Extract<ServerFrame, { type: 'error' }>;

export interface ParleyClientOptions {
  /** e.g. `ws://localhost:8080/ws/chat` */
  url: string;
  /** Called on every (re)connect, so an expiring token can be refreshed. */
  token: string | (() => string | Promise<string>);
  conversationId?: string;
  agent?: string;
  reconnect?: false | { minDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  WebSocket?: WebSocketCtor;
}

/** The server refused or gave up on the connection (a code reconnecting cannot fix). */
export class ClientClosedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
    this.name = 'ClientClosedError';
  }
}

/** The server answered a request with an `error` frame. */
export class ServerError extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(frame.message);
    this.name = 'ServerError';
  }
  get code(): string {
    return this.frame.code;
  }
}

interface Pending {
  ref: string;
  resolve(f: ServerFrame): void;
  reject(e: Error): void;
  /** Resent after a reconnect (chat.message is idempotent by id on the server). */
  resend?: ClientFrame;
}

const FINAL_CODES = new Set<number>([1000, WsClose.badToken, WsClose.forbidden]);
const newId = () => globalThis.crypto.randomUUID();

export class ParleyClient {
  welcome: Welcome | null = null;
  conversationId: string | undefined;
  private ws: MinimalWebSocket | null = null;
  private readonly runs = new Map<string, RunStream>();
  private pending: Pending[] = [];
  private readonly listeners = new Set<(f: ServerFrame) => void>();
  private closedByUser = false;
  private attempts = 0;
  private connecting: Promise<{ welcome: Welcome; history: History }> | null = null;
  private readonly reconnect: { minDelayMs: number; maxDelayMs: number; maxAttempts: number } | null;

  constructor(private readonly opts: ParleyClientOptions) {
    this.conversationId = opts.conversationId;
    this.reconnect = opts.reconnect === false ? null : { minDelayMs: 100, maxDelayMs: 10_000, maxAttempts: Infinity, ...opts.reconnect };
  }

  /** Resolves with the welcome and the conversation's history. */
  connect(): Promise<{ welcome: Welcome; history: History }> {
    this.closedByUser = false;
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
    const accepted = await this.request(frame.id, frame, true);
    if (accepted.type !== 'chat.accepted') throw new Error(`unexpected ${accepted.type}`);
    return this.follow(accepted.runId, 0, accepted.conversationId, false);
  }

  /** Follows a run started elsewhere (another tab, a REST call), from `lastSeq`. */
  follow(runId: string, lastSeq = 0, conversationId: string | null = null, sendResume = true): RunStream {
    let run = this.runs.get(runId);
    if (!run) {
      run = new RunStream(runId, conversationId, lastSeq, (id) => this.cancel(id));
      this.runs.set(runId, run);
      if (sendResume) this.sendFrame({ type: 'resume', runId, lastSeq });
    }
    return run;
  }

  cancel(runId: string): void {
    this.sendFrame({ type: 'chat.cancel', runId });
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
    this.ws?.close(1000, 'bye');
    this.failAll(new ClientClosedError(1000, 'closed by the client'));
  }

  private request(ref: string, frame: ClientFrame, resend = false): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const p: Pending = { ref, resolve, reject };
      if (resend) p.resend = frame;
      this.pending.push(p);
      this.sendFrame(frame);
    });
  }

  private sendFrame(frame: ClientFrame): void {
    // While disconnected, resumes and resends happen on reconnect; other frames are dropped.
    if (this.ws?.readyState === 1 && this.welcome) this.ws.send(JSON.stringify(frame));
  }

  private async open(): Promise<{ welcome: Welcome; history: History }> {
    const WS = await resolveWebSocket(this.opts.WebSocket);
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const url = new URL(this.opts.url);
    url.searchParams.set('token', token);
    const conversationId = this.conversationId ?? this.welcome?.conversationId;
    if (conversationId) url.searchParams.set('conversationId', conversationId);
    if (this.opts.agent) url.searchParams.set('agent', this.opts.agent);
    const ws = new WS(url.toString());
    this.ws = ws;
    return new Promise((resolve, reject) => {
      let welcome: Welcome | null = null;
      let settled = false;
      ws.addEventListener('message', (ev) => {
        void textOf(ev.data).then((text) => {
          const frame = parseFrame(text);
          if (!frame) return;
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
        if (this.ws === ws) this.ws = null;
        if (!settled) {
          settled = true;
          reject(new ClientClosedError(ev.code, ev.reason));
        }
        this.onClosed(ev.code, ev.reason);
      });
    });
  }

  /** After a reconnect: resend unanswered chat messages (same ids) and resume unfinished runs. */
  private afterConnect(): void {
    for (const p of this.pending) if (p.resend) this.sendFrame(p.resend);
    for (const run of this.runs.values()) if (!run.done) this.sendFrame({ type: 'resume', runId: run.runId, lastSeq: run.lastSeq });
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
        return this.settle(frame.id, frame);
      case 'history':
        return this.settle(this.pending.find((p) => p.ref === 'history.get' || p.ref === 'conversation.new')?.ref, frame);
      case 'pong':
        return this.settle('ping', frame);
      case 'error':
        if (frame.ref) this.settle(frame.ref, frame);
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

  private settle(ref: string | undefined, frame: ServerFrame): void {
    const i = this.pending.findIndex((p) => p.ref === ref);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    if (!p) return;
    if (frame.type === 'error') p.reject(new ServerError(frame));
    else p.resolve(frame);
  }

  private onClosed(code: number, reason: string): void {
    const final = this.closedByUser || !this.reconnect || FINAL_CODES.has(code) || this.attempts >= (this.reconnect?.maxAttempts ?? 0);
    // Requests that cannot be resent die with the socket; chat messages wait for the next one.
    for (const p of this.pending.filter((x) => !x.resend)) p.reject(new ClientClosedError(code, reason));
    this.pending = this.pending.filter((x) => x.resend);
    if (final) return this.failAll(new ClientClosedError(code, reason));
    const r = this.reconnect as NonNullable<typeof this.reconnect>;
    // Too many sockets: the server counts ours for a while, so back off harder.
    const base = code === WsClose.tooManyConnections ? r.maxDelayMs : r.minDelayMs;
    const delay = Math.min(r.maxDelayMs, base * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts++;
    setTimeout(() => {
      if (this.closedByUser) return;
      this.connect().catch(() => {}); // a failed attempt closes again and schedules the next
    }, delay);
  }

  private failAll(err: Error): void {
    for (const p of this.pending.splice(0)) p.reject(err);
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
