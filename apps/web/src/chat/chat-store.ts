/**
 * The chat's state and its one socket (packages/client). The client reconnects and resumes runs
 * on its own; this store adds what a page needs on top: the visible connection state, the turns
 * of the open conversation, and resuming a run that was streaming when the page was reloaded.
 */
import { DeliveredToPersonError, ParleyClient, RunFailedError, type RunStream, type WebSocketCtor, type Welcome } from '@parley/client';
import { signOut, type Session } from '../lib/auth.js';
import { rememberRun } from '../lib/recent-runs.js';
import { signal } from '../lib/signal.js';
import type { Decide } from '../ui/approval-card.js';
import { applyFrame, handoffTurnOf, turnsFromHistory, type Turn } from './transcript.js';

export type ConnState = 'connecting' | 'online' | 'reconnecting' | 'offline';

const ACTIVE_RUN = 'parley.activeRun';
// Codes after which the client gives up (see packages/client): anything else means it is retrying.
const FINAL = new Set([1000, 4401, 4403]);

export class ChatStore {
  readonly conn = signal<ConnState>('connecting');
  readonly connDetail = signal<string>('');
  readonly conversationId = signal<string | null>(null);
  readonly turns = signal<Turn[]>([]);
  readonly hasMore = signal(false);
  readonly activeRunId = signal<string | null>(null);
  readonly error = signal<string | null>(null);
  welcome: Welcome | null = null;
  private readonly client: ParleyClient;
  private run: RunStream | null = null;
  private closed = false;
  /** The server pages history backwards by seq. */
  private oldestSeq: number | undefined;

  /** `agent` (from the agents page): the socket talks to that agent, in a fresh conversation unless one is named. */
  constructor(
    session: Session,
    conversationId: string | undefined,
    private readonly onConversation: (id: string) => void,
    readonly agent?: string,
  ) {
    const opts: ConstructorParameters<typeof ParleyClient>[0] = {
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/chat`,
      token: () => session.token,
      WebSocket: this.trackedSocket(session.token),
      reconnect: { minDelayMs: 250, maxDelayMs: 8_000 },
    };
    if (conversationId) opts.conversationId = conversationId;
    if (agent) {
      opts.agent = agent;
      opts.fresh = true;
    }
    this.client = new ParleyClient(opts);
    this.client.onFrame((f) => {
      if (f.type === 'error' && f.ref === 'approval.decide') this.decisionRefused?.(f.message);
      if (f.type === 'error' && f.ref === 'resume') this.finishLive('failed', `This run can no longer be resumed (${f.message}).`);
      if (f.type === 'system' && f.event === 'shutdown') this.connDetail.set('the server is restarting; reconnecting');
      // A person of the support staff joining, writing, leaving: live, as the history shows them after a reload.
      const live = handoffTurnOf(f);
      if (live && f.type !== 'error' && 'conversationId' in f && f.conversationId === this.conversationId.get()) this.turns.set([...this.turns.get(), live]);
    });
  }

  /** The card waiting for the answer to its decision: a refusal comes back as an error frame. */
  private decisionRefused: ((message: string) => void) | undefined;

  /**
   * A decision on the tool call a run waits on, over the socket. Resolves with the refusal's message, or null once the
   * run moves on (its next frame reaches the turn) — whichever comes first.
   */
  readonly decider =
    (runId: string, ask: { approvalId: string }): Decide =>
    (decision, extra) =>
      new Promise((resolve) => {
        if (!this.client.decide(runId, ask.approvalId, decision, extra)) return resolve('Not connected; try again once the chat is back online.');
        this.decisionRefused = (message) => resolve(message);
        // The card leaves the page once the run's next step arrives; a refusal comes before it.
        setTimeout(() => resolve(null), 10_000);
      });

  private started!: () => void;
  /** Resolves once the first connection brought its history. */
  readonly ready = new Promise<void>((r) => (this.started = r));

  async start(): Promise<void> {
    try {
      const { welcome, history } = await this.client.connect();
      if (this.closed) return;
      this.welcome = welcome;
      this.show(history.conversationId, history.messages, history.hasMore, welcome.greeting);
      this.resumeAfterReload();
      this.started();
    } catch (err) {
      this.conn.set('offline');
      this.error.set(`Could not connect: ${(err as Error).message}`);
    }
  }

  async open(conversationId: string): Promise<void> {
    if (conversationId === this.conversationId.get()) return;
    this.error.set(null);
    try {
      const h = await this.client.history({ conversationId, limit: 50 });
      this.client.conversationId = conversationId;
      this.show(conversationId, h.messages, h.hasMore);
    } catch (err) {
      this.error.set(`Could not open the conversation: ${(err as Error).message}`);
    }
  }

  async newConversation(agent?: string): Promise<void> {
    this.error.set(null);
    const h = await this.client.newConversation(agent);
    this.show(h.conversationId, h.messages, h.hasMore, h.greeting);
  }

  async loadOlder(): Promise<void> {
    const id = this.conversationId.get();
    if (!id || this.oldestSeq === undefined) return;
    const h = await this.client.history({ conversationId: id, limit: 50, before: this.oldestSeq });
    this.hasMore.set(h.hasMore);
    this.oldestSeq = h.messages[0]?.seq ?? this.oldestSeq;
    this.turns.set([...turnsFromHistory(h.messages), ...this.turns.get()]);
  }

  async send(text: string): Promise<void> {
    this.error.set(null);
    const id = uuid();
    this.turns.set([...this.turns.get(), { key: id, role: 'user', text, steps: [], status: 'done' }]);
    try {
      const conversationId = this.conversationId.get() ?? undefined;
      const run = await this.client.chat(text, conversationId ? { id, conversationId } : { id });
      sessionStorage.setItem(ACTIVE_RUN, JSON.stringify({ runId: run.runId, conversationId: run.conversationId }));
      rememberRun(run.runId, `chat: ${text.length > 60 ? `${text.slice(0, 59)}…` : text}`);
      void this.stream(run);
    } catch (err) {
      // A person handles the conversation: the message was delivered to them, nothing failed.
      if (err instanceof DeliveredToPersonError) return;
      this.error.set((err as Error).message);
    }
  }

  stop(): void {
    this.run?.cancel();
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  /**
   * A new conversation opens with the agent's greeting: shown here until the first message, when the
   * server saves it as the conversation's first message, so a reload or another device shows it from history.
   */
  private show(conversationId: string, messages: Parameters<typeof turnsFromHistory>[0], hasMore: boolean, greeting?: string): void {
    this.conversationId.set(conversationId);
    const greeted: Turn[] =
      messages.length === 0 && greeting ? [{ key: `greeting-${conversationId}`, role: 'assistant', text: greeting, steps: [], status: 'done' }] : [];
    this.turns.set([...greeted, ...turnsFromHistory(messages)]);
    this.oldestSeq = messages[0]?.seq;
    this.hasMore.set(hasMore);
    this.onConversation(conversationId);
  }

  private resumeAfterReload(): void {
    const saved = readActiveRun();
    if (!saved || saved.conversationId !== this.conversationId.get()) return;
    if (this.turns.get().some((t) => t.role === 'assistant' && t.runId === saved.runId && t.text)) return sessionStorage.removeItem(ACTIVE_RUN);
    // From seq 0: the page lost what it had shown, the run's event log replays it.
    void this.stream(this.client.follow(saved.runId, 0, saved.conversationId));
  }

  private async stream(run: RunStream): Promise<void> {
    this.run = run;
    this.activeRunId.set(run.runId);
    const key = `run-${run.runId}`;
    this.turns.set([...this.turns.get().filter((t) => t.key !== key), { key, role: 'assistant', text: '', steps: [], status: 'streaming', runId: run.runId }]);
    let pending = false;
    let live = this.turns.get().at(-1) as Turn;
    const flush = () => {
      pending = false;
      this.turns.set(this.turns.get().map((t) => (t.key === key ? live : t)));
    };
    try {
      for await (const f of run) {
        live = applyFrame(live, f);
        // Tokens arrive faster than frames paint; one render per animation frame is enough.
        if (live.status !== 'streaming') flush();
        else if (!pending) {
          pending = true;
          requestAnimationFrame(flush);
        }
      }
    } catch (err) {
      if (!(err instanceof RunFailedError)) live = { ...live, status: 'failed', error: (err as Error).message };
    }
    if (live.status === 'streaming') live = { ...live, status: 'failed', error: 'The connection ended before the answer.' };
    flush();
    if (this.run === run) {
      this.run = null;
      this.activeRunId.set(null);
      sessionStorage.removeItem(ACTIVE_RUN);
    }
  }

  private finishLive(status: 'failed', error: string): void {
    const id = this.activeRunId.get();
    if (!id) return;
    this.turns.set(this.turns.get().map((t) => (t.runId === id && t.status === 'streaming' ? { ...t, status, error } : t)));
    this.activeRunId.set(null);
    this.run = null;
    sessionStorage.removeItem(ACTIVE_RUN);
  }

  /** The browser's WebSocket, reporting open and close so the page can show the connection state. */
  private trackedSocket(token: string): WebSocketCtor {
    // The socket class below has its own `this`; the store is reached through this name.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    return class TrackedSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        if (store.conn.get() !== 'connecting') store.conn.set('reconnecting');
        this.addEventListener('open', () => {
          store.conn.set('online');
          store.connDetail.set('');
        });
        this.addEventListener('close', (ev) => {
          if (store.closed) return;
          const final = FINAL.has(ev.code);
          // An expired or refused token cannot be fixed by reconnecting: back to the sign-in page, with the
          // gateway's reason ("your sign-in expired…" or "invalid token"), which tells the two apart.
          if (ev.code === 4401) return signOut(signedOutReason(ev.reason), token);
          store.conn.set(final ? 'offline' : 'reconnecting');
          store.connDetail.set(final ? closeReason(ev.code, ev.reason) : 'connection lost; reconnecting');
        });
      }
    };
  }
}

/** The sign-in page's line for a 4401 close or a REST 401: the gateway's own words when it gave them. */
export function signedOutReason(reason: string | undefined): string {
  return reason ? `Signed out: ${reason}` : 'Signed out: the gateway refused this sign-in. Sign in again.';
}

function closeReason(code: number, reason: string): string {
  if (code === 4401) return reason || 'the gateway refused this sign-in; sign in again';
  if (code === 4403) return 'that conversation is not yours';
  return reason || `closed (${code})`;
}

function readActiveRun(): { runId: string; conversationId: string | null } | null {
  try {
    return JSON.parse(sessionStorage.getItem(ACTIVE_RUN) ?? 'null') as { runId: string; conversationId: string | null } | null;
  } catch {
    return null;
  }
}

/** crypto.randomUUID only exists in secure contexts; a LAN address over http is not one. */
function uuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
