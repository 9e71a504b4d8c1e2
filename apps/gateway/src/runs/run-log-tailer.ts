/**
 * Reads runs' event logs (Redis streams written by agent-execution, see `runEventLogKey`) so that
 * any replica can resume a client or serve SSE. One blocking connection per process tails every
 * watched run with a single multi-key XREAD; adding a run interrupts the block with CLIENT UNBLOCK
 * instead of opening a connection per subscriber.
 *
 * Redis Cluster: a multi-key XREAD needs every key in one slot, and run logs hash by run id. On a
 * cluster this loop would have to be split per node; single-node and Sentinel setups are fine.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decodeRunLogEntry, runEventLogKey, type RunEvent } from '@parley/contracts';

type StreamEntry = [id: string, fields: string[]];
type XReadReply = Array<[key: string, entries: StreamEntry[]]> | null;

export interface RunSubscription {
  readonly runId: string;
  /** The last seq delivered to the subscriber. */
  readonly lastSeq: number;
  close(): void;
}

const PAGE = 500;

/**
 * Delivers each seq exactly once and in order, whichever path (catch-up read or live tail) sees an
 * event first: that is what makes resume free of duplicates and gaps.
 */
class Subscription implements RunSubscription {
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

interface Watched {
  /** Stream id read up to; null until the first catch-up read fixed it. */
  cursor: string | null;
  subs: Set<Subscription>;
}

export class RunLogTailer {
  private readonly watched = new Map<string, Watched>();
  private readonly blocking: Redis;
  private blockingId: number | null = null;
  private running = true;
  private reading = false;
  private dirty = false;
  private idle: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(
    redisUrl: string,
    private readonly cmd: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.blocking = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: 'gateway:run-log-tailer' });
    this.blocking.on('error', () => {});
    this.blocking.on('close', () => {
      this.blockingId = null;
    });
    this.loop = this.run();
  }

  /** Events with seq > afterSeq, first those already logged, then live ones, until the run ends. */
  subscribe(runId: string, afterSeq: number, onEvent: (e: RunEvent) => void): RunSubscription {
    const key = runEventLogKey(this.prefix, runId);
    let w = this.watched.get(key);
    if (!w) {
      w = { cursor: null, subs: new Set() };
      this.watched.set(key, w);
    }
    const watched = w;
    const sub = new Subscription(runId, afterSeq, onEvent, (s) => {
      watched.subs.delete(s);
      if (watched.subs.size === 0 && this.watched.get(key) === watched) this.watched.delete(key);
    });
    // Joined before the catch-up read, so whatever the read misses the tail delivers (and vice versa).
    watched.subs.add(sub);
    void this.catchUp(key, watched, sub);
    return sub;
  }

  watchedRuns(): number {
    return this.watched.size;
  }

  private async catchUp(key: string, w: Watched, sub: Subscription): Promise<void> {
    let start = '-';
    let lastId: string | null = null;
    let first = true;
    try {
      for (;;) {
        const rows = (await this.cmd.xrange(key, start, '+', 'COUNT', PAGE)) as StreamEntry[];
        for (const [id, fields] of rows) {
          lastId = id;
          for (const e of decodeRunLogEntry(fields)) {
            if (first) sub.skipTo(e.seq);
            first = false;
            sub.offer(e);
          }
        }
        if (rows.length < PAGE || sub.done) break;
        start = `(${lastId}`;
      }
    } catch (err) {
      this.log.warn({ err, runId: sub.runId }, 'run log catch-up read failed; relying on the live tail');
    }
    if (w.cursor === null && this.watched.get(key) === w) {
      w.cursor = lastId ?? '0-0';
      this.wake();
    }
  }

  private wake(): void {
    this.dirty = true;
    if (this.idle) {
      const resolve = this.idle;
      this.idle = null;
      resolve();
    } else if (this.reading) this.unblock();
  }

  private unblock(): void {
    if (this.blockingId === null) return;
    this.cmd
      .client('UNBLOCK', this.blockingId)
      .then((n) => {
        // 0: the XREAD was not blocked yet; try again until the loop has picked up the change.
        if (n === 0 && this.dirty && this.reading) setTimeout(() => this.unblock(), 5);
      })
      .catch(() => {
        /* the read loop's own timeout wakes it anyway */
      });
  }

  private async run(): Promise<void> {
    let backoff = 50;
    while (this.running) {
      this.dirty = false;
      const active = [...this.watched].filter(([, w]) => w.cursor !== null);
      if (active.length === 0) {
        await new Promise<void>((resolve) => {
          this.idle = resolve;
        });
        continue;
      }
      try {
        if (this.blockingId === null) this.blockingId = Number(await this.blocking.client('ID'));
        this.reading = true;
        const args = ['COUNT', PAGE, 'BLOCK', 5_000, 'STREAMS', ...active.map(([k]) => k), ...active.map(([, w]) => w.cursor as string)];
        const reply = (await this.blocking.call('XREAD', ...args)) as XReadReply;
        this.reading = false;
        backoff = 50;
        for (const [key, entries] of reply ?? []) {
          const w = this.watched.get(key);
          if (!w) continue;
          for (const [id, fields] of entries) {
            w.cursor = id;
            for (const e of decodeRunLogEntry(fields)) for (const sub of [...w.subs]) sub.offer(e);
          }
        }
      } catch (err) {
        this.reading = false;
        if (!this.running) break;
        this.log.warn({ err }, 'run log tail failed; retrying');
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    for (const w of this.watched.values()) for (const s of [...w.subs]) s.close();
    this.idle?.();
    this.blocking.disconnect();
    await this.loop;
  }
}
