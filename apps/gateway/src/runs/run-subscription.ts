import type { RunEvent } from '@parley/contracts';

export interface RunSubscription {
  readonly runId: string;
  /** The last seq delivered to the subscriber. */
  readonly lastSeq: number;
  close(): void;
}

/**
 * Delivers each seq exactly once and in order, whichever path (catch-up read or live tail) sees an
 * event first: that is what makes resume free of duplicates and gaps.
 */
export class Subscription implements RunSubscription {
  lastSeq: number;
  private readonly pending = new Map<number, RunEvent>();
  done = false;

  constructor(
    readonly runId: string,
    afterSeq: number,
    private readonly onEvent: (e: RunEvent) => void,
    private readonly onDone: (s: Subscription) => void,
  ) {
    this.lastSeq = afterSeq;
  }

  offer(e: RunEvent): void {
    if (this.done || e.seq <= this.lastSeq) return;
    this.pending.set(e.seq, e);
    for (let next = this.pending.get(this.lastSeq + 1); next; next = this.pending.get(this.lastSeq + 1)) {
      this.pending.delete(next.seq);
      this.lastSeq = next.seq;
      this.onEvent(next);
      if (next.type === 'run.completed' || next.type === 'run.failed') {
        this.close();
        return;
      }
    }
  }

  /** The log starts after our position (trimmed or expired): jump rather than wait forever. */
  skipTo(firstSeq: number): void {
    if (firstSeq > this.lastSeq + 1) this.lastSeq = firstSeq - 1;
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.pending.clear();
    this.onDone(this);
  }
}
