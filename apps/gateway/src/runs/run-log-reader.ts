/**
 * One blocking connection tailing many runs' event logs with a single multi-key XREAD; adding a run
 * interrupts the block with CLIENT UNBLOCK instead of opening a connection per subscriber. Every key
 * a reader tails must hash to one slot on a Redis Cluster (the tailer gives each reader one shard).
 */
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import { blockingConnection, nodeServing, type RedisClient, type RedisTarget } from '@parley/bus';
import { decodeRunLogEntry, type RunEvent } from '@parley/contracts';
import { Subscription, type RunSubscription } from './run-subscription.js';

type StreamEntry = [id: string, fields: string[]];
type XReadReply = Array<[key: string, entries: StreamEntry[]]> | null;

interface Watched {
  /** Stream id read up to; null until the first catch-up read fixed it. */
  cursor: string | null;
  subs: Set<Subscription>;
}

const PAGE = 500;
const BLOCK_MS = 5_000;
/** UNBLOCK answering 0 this many times in a row: the read went out on a connection the remembered id no longer names. */
const STALE_UNBLOCKS = 40;

export class RunLogReader {
  private readonly watched = new Map<string, Watched>();
  private readonly blocking: RedisClient;
  private blockingId: number | null = null;
  /** A key of this reader's slot, to find the node its blocking read is on. */
  private slotKey: string | null = null;
  private running = true;
  private reading = false;
  private dirty = false;
  private idle: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(
    target: RedisTarget,
    private readonly cmd: RedisClient,
    private readonly log: Logger,
    name: string,
  ) {
    this.blocking = blockingConnection(target, name);
    this.blocking.on('error', () => {
      /* every failed read is logged by the loop, which retries */
    });
    this.loop = this.run();
  }

  /** Events of the log at `key` with seq > afterSeq, first those already logged, then live ones, until the run ends. */
  subscribe(key: string, runId: string, afterSeq: number, onEvent: (e: RunEvent) => void): RunSubscription {
    this.slotKey ??= key;
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
    } else if (this.reading) void this.unblock(0);
  }

  private async unblock(attempt: number): Promise<void> {
    const id = this.blockingId;
    if (id === null || this.slotKey === null) return;
    try {
      // The node connection inside a cluster client is the one holding the read (nodeServing).
      const n = await nodeServing(this.cmd, this.slotKey).call('CLIENT', 'UNBLOCK', id);
      if (n === 1 || !this.dirty || !this.reading) return;
    } catch {
      /* the read's own timeout wakes the loop anyway */
      return;
    }
    // 0: the XREAD was not blocked yet, or (a cluster client re-sent it after a reconnect) it is
    // blocked on a connection this id no longer names; then reconnect, which ends the read.
    if (attempt < STALE_UNBLOCKS) setTimeout(() => void this.unblock(attempt + 1), 5);
    else this.blocking.disconnect(true);
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
        if (this.blockingId === null) {
          // A keyed command first, so a cluster client has connected to the slot's node before it is named.
          await this.blocking.exists(active[0]![0]);
          this.blockingId = Number(await nodeServing(this.blocking, active[0]![0]).client('ID'));
        }
        this.reading = true;
        const args = ['COUNT', PAGE, 'BLOCK', BLOCK_MS, 'STREAMS', ...active.map(([k]) => k), ...active.map(([, w]) => w.cursor as string)];
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
        this.blockingId = null;
        if (!this.running) break;
        this.log.warn({ err }, 'run log tail failed; retrying');
        await sleep(backoff);
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
