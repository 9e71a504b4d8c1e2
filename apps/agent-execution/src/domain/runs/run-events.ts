import type { RedisClient, StreamEntry } from '@parley/bus';
import { decodeRunLogEntry, encodeRunLogEntry, RUN_EVENT_LOG_TTL_MS, runEventLogKey, type RunEvent } from '@parley/contracts';
import { RunSteps } from './run-steps.js';

type Payload<T extends RunEvent['type']> = Omit<Extract<RunEvent, { type: T }>, 'runId' | 'seq' | 'at' | 'type'>;

/**
 * Where a run's events go: one entry of its event log, then to its caller once the log holds them
 * (the bus's `emitLogged`). Resolves when the log holds the entry.
 */
export type RunEventSink = (events: readonly RunEvent[], entry: StreamEntry) => Promise<void>;

/**
 * The one way a run's events leave the process: numbered (seq 1, 2, … with no gaps), appended to the
 * run's event log so any gateway replica can replay them, and streamed live to the caller once the log
 * holds them. The log gets one entry per turn of the event loop holding every event emitted in it (a
 * fast model streams dozens of tokens per turn); entries are pipelined, so a slow write delays its
 * events but never the events behind it; `flush` waits for what is buffered before the run's terminal reply.
 *
 * Invariant: nothing reaches the caller that the log does not hold. A redelivery after the worker
 * died numbers its events after the log's last seq; an event the caller saw but the log missed would
 * get its seq twice. The sink keeps it: the log entry and the events leave in one ordered write (two
 * on a cluster, the events after the entry's reply).
 */
export class RunEvents {
  private seq: number;
  private readonly key: string;
  private pending: Array<Promise<unknown>> = [];
  private buffered: RunEvent[] = [];
  private writeScheduled = false;
  /** When this writer set the log's TTL (0: not yet). */
  private expiresFrom = 0;
  private terminal = false;
  /** Set once the terminal event's seq is fixed (`endSeq`): nothing but the terminal event is emitted after. */
  private closing = false;
  /** The run's steps, kept with its record when it ends. */
  readonly steps = new RunSteps();
  /** Tokens that arrived while the current token window was open, sent as one run.token when it closes. */
  private heldTokens = '';
  private tokenWindow: NodeJS.Timeout | null = null;

  constructor(
    private readonly sink: RunEventSink,
    prefix: string,
    readonly runId: string,
    /** Last seq already in the log (a redelivered run continues after it). */
    startAfter = 0,
    /** At most one run.token per this many ms after the first (0: one per model token). */
    private readonly tokenWindowMs = 0,
  ) {
    this.key = runEventLogKey(prefix, runId);
    this.seq = startAfter;
  }

  /** The highest seq a previous delivery of this run wrote, so numbering continues without gaps. */
  static async lastSeq(redis: RedisClient, prefix: string, runId: string): Promise<number> {
    const last = await redis.xrevrange(runEventLogKey(prefix, runId), '+', '-', 'COUNT', 1);
    return decodeRunLogEntry(last[0]?.[1] ?? []).at(-1)?.seq ?? 0;
  }

  /**
   * A redelivered run's events so far (its earlier delivery's log): the last seq, so numbering continues, and
   * its steps, so the record keeps them too. Reads the whole log, which only a redelivery does.
   */
  static async logged(redis: RedisClient, prefix: string, runId: string): Promise<{ lastSeq: number; steps: Array<Extract<RunEvent, { type: 'run.step' }>> }> {
    const rows = await redis.xrange(runEventLogKey(prefix, runId), '-', '+');
    let lastSeq = 0;
    const steps: Array<Extract<RunEvent, { type: 'run.step' }>> = [];
    for (const [, fields] of rows)
      for (const e of decodeRunLogEntry(fields)) {
        lastSeq = Math.max(lastSeq, e.seq);
        if (e.type === 'run.step') steps.push(e);
      }
    return { lastSeq, steps };
  }

  /**
   * The seq the terminal event will get, fixed before the record's final write stores it: held tokens go out
   * first, and from here on only the terminal event is emitted (a late token of a stopped model is dropped).
   */
  endSeq(): number {
    if (this.heldTokens) this.releaseTokens(false);
    this.closing = true;
    return this.seq + 1;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get ended(): boolean {
    return this.terminal;
  }

  emit<T extends RunEvent['type']>(type: T, payload: Payload<T>): void {
    if (this.terminal) return;
    const ending = type === 'run.completed' || type === 'run.failed';
    if (this.closing && !ending) return;
    // Whatever comes next goes after the tokens before it.
    if (this.heldTokens) this.releaseTokens(false);
    if (type === 'run.completed' || type === 'run.failed') {
      this.terminal = true;
      if (this.tokenWindow) clearTimeout(this.tokenWindow);
    }
    this.seq += 1;
    const event = { type, runId: this.runId, seq: this.seq, at: Date.now(), ...payload } as unknown as RunEvent;
    if (event.type === 'run.step') this.steps.add(event);
    this.buffered.push(event);
    if (!this.writeScheduled) {
      this.writeScheduled = true;
      setImmediate(() => this.write());
    }
  }

  private write(): void {
    this.writeScheduled = false;
    if (this.buffered.length === 0) return;
    const batch = this.buffered;
    this.buffered = [];
    const entry: StreamEntry = { stream: this.key, fields: encodeRunLogEntry(batch) };
    // The TTL is set with the first entry (a run whose worker dies still expires); the last entry
    // renews it only for a run that took more than half of it (one paused for approval, say), so every
    // log outlives its run's end by at least half the TTL for one command per run, not two.
    const now = Date.now();
    if (this.expiresFrom === 0 || (this.terminal && now - this.expiresFrom > RUN_EVENT_LOG_TTL_MS / 2)) {
      entry.ttlMs = RUN_EVENT_LOG_TTL_MS;
      this.expiresFrom = now;
    }
    this.track(this.sink(batch, entry));
    if (this.pending.length > 256) {
      const writes = this.pending;
      this.pending = [];
      this.track(Promise.all(writes));
    }
  }

  /**
   * A log write `flush` will wait for. Marked handled at once: a write that fails (Redis gone) before
   * the run flushes would otherwise be an unhandled rejection, which ends the process; `flush` still
   * sees the failure and the run's error path deals with it.
   */
  private track(write: Promise<unknown>): void {
    write.catch(() => {
      /* the write is awaited by flush(), which reports its failure */
    });
    this.pending.push(write);
  }

  /**
   * A model token. The first goes out at once; after it, tokens are gathered for `tokenWindowMs` and
   * sent as one event per window. A model streaming 50–100 tokens/s then costs a few events per
   * 100 ms instead of one per token — each event is a bus message, a log entry, a WebSocket frame and
   * a parse at every hop — while the reader sees text appear as smoothly as a screen redraws.
   */
  token(delta: string): void {
    if (!delta || this.terminal || this.closing) return;
    if (this.tokenWindow) {
      this.heldTokens += delta;
      return;
    }
    this.emit('run.token', { delta });
    this.openTokenWindow();
  }

  private openTokenWindow(): void {
    if (this.tokenWindowMs <= 0) return;
    this.tokenWindow = setTimeout(() => this.releaseTokens(true), this.tokenWindowMs);
    this.tokenWindow.unref();
  }

  /** Sends the held tokens; at the window's end a new window opens, so a steady stream stays paced. */
  private releaseTokens(windowEnded: boolean): void {
    if (this.tokenWindow) clearTimeout(this.tokenWindow);
    this.tokenWindow = null;
    const delta = this.heldTokens;
    if (!delta) return;
    this.heldTokens = '';
    this.emit('run.token', { delta });
    if (windowEnded) this.openTokenWindow();
  }

  step(kind: 'log' | 'tool_call' | 'tool_result', name: string, data?: unknown, progress?: number): void {
    const payload: Payload<'run.step'> = { kind, name };
    if (data !== undefined) payload.data = data;
    if (progress !== undefined) payload.progress = Math.max(0, Math.min(100, Math.round(progress)));
    this.emit('run.step', payload);
  }

  /** Resolves once every event so far is in the log. */
  async flush(): Promise<void> {
    if (this.heldTokens) this.releaseTokens(false);
    this.write();
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
  }
}
