import type { Redis } from 'ioredis';
import { decodeRunLogEntry, encodeRunLogEntry, RUN_EVENT_LOG_TTL_MS, runEventLogKey, type RunEvent } from '@parley/contracts';

type Payload<T extends RunEvent['type']> = Omit<Extract<RunEvent, { type: T }>, 'runId' | 'seq' | 'at' | 'type'>;

/**
 * The one way a run's events leave the process: numbered (seq 1, 2, … with no gaps), streamed live to
 * the caller through the bus at once, and appended to the run's event log so any gateway replica can
 * replay them. The log gets one entry per turn of the event loop holding every event emitted in it
 * (a fast model streams dozens of tokens per turn); writes are pipelined and never awaited on the
 * token path; `flush` writes what is buffered and waits for it before the run's terminal reply.
 */
export class RunEvents {
  private seq: number;
  private readonly key: string;
  private pending: Array<Promise<unknown>> = [];
  private buffered: RunEvent[] = [];
  private writeScheduled = false;
  private logged = false;
  private terminal = false;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly runId: string,
    private readonly live: (event: RunEvent) => void,
    /** Last seq already in the log (a redelivered run continues after it). */
    startAfter = 0,
  ) {
    this.key = runEventLogKey(prefix, runId);
    this.seq = startAfter;
  }

  /** The highest seq a previous delivery of this run wrote, so numbering continues without gaps. */
  static async lastSeq(redis: Redis, prefix: string, runId: string): Promise<number> {
    const last = await redis.xrevrange(runEventLogKey(prefix, runId), '+', '-', 'COUNT', 1);
    return decodeRunLogEntry(last[0]?.[1] ?? []).at(-1)?.seq ?? 0;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get ended(): boolean {
    return this.terminal;
  }

  emit<T extends RunEvent['type']>(type: T, payload: Payload<T>): void {
    if (this.terminal) return;
    if (type === 'run.completed' || type === 'run.failed') this.terminal = true;
    this.seq += 1;
    const event = { type, runId: this.runId, seq: this.seq, at: Date.now(), ...payload } as unknown as RunEvent;
    this.live(event);
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
    this.pending.push(this.redis.xadd(this.key, '*', ...encodeRunLogEntry(batch)));
    // The TTL is set with the first entry (a run whose worker dies still expires) and refreshed at the end.
    if (!this.logged || this.terminal) this.pending.push(this.redis.pexpire(this.key, RUN_EVENT_LOG_TTL_MS));
    this.logged = true;
    if (this.pending.length > 256) this.pending = [Promise.all(this.pending)];
  }

  token(delta: string): void {
    if (delta) this.emit('run.token', { delta });
  }

  step(kind: 'log' | 'tool_call' | 'tool_result', name: string, data?: unknown, progress?: number): void {
    const payload: Payload<'run.step'> = { kind, name };
    if (data !== undefined) payload.data = data;
    if (progress !== undefined) payload.progress = Math.max(0, Math.min(100, Math.round(progress)));
    this.emit('run.step', payload);
  }

  /** Resolves once every event so far is in the log. */
  async flush(): Promise<void> {
    this.write();
    const pending = this.pending;
    this.pending = [];
    await Promise.all(pending);
  }
}
