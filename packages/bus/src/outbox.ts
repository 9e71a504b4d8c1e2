import type { RedisClient } from './connection.js';
import type { StreamEntry } from './types.js';
import { SlotPipelines } from './slot-pipelines.js';

/** How long after a push its callback queue's TTL is (re)set; see Outbox.expireSoon. */
export const CALLBACK_EXPIRY_DELAY_MS = 1_000;

/** A stream append whose events go to a callback queue only once the stream holds them. */
interface LoggedAppend {
  entry: StreamEntry;
  /** Set only on a cluster, where the pushes wait for the append's reply. */
  pushAfter: { queue: string; messages: readonly string[] } | undefined;
  settle(err: Error | null): void;
}

/**
 * Everything a worker writes after a handler finishes — idempotency marks, replies and events to
 * callback queues, XACKs — collected for one event-loop turn and issued together as one explicit
 * pipeline: one write to Redis per turn, and one XACK per stream however many entries finished. (Issued
 * one by one, each would be a write of its own; the commands connection does not auto-pipeline.)
 * Order inside a flush is marks → stream appends → replies and events → acks, so an acked mutation
 * always has its mark and its reply already written ("reply then XACK"), and an event that goes with
 * an append follows it (see append). On a cluster it is one pipeline per slot (see flush).
 */
export class Outbox {
  private marks: Array<[string, string]> = [];
  private appends: LoggedAppend[] = [];
  private pushes = new Map<string, string[]>();
  private acks = new Map<string, { group: string; ids: string[] }>();
  private scheduled = false;
  private inFlight = new Set<Promise<unknown>>();
  private expiring = new Set<string>();
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly markTtlMs: number,
    private readonly callbackTtlMs: number,
  ) {}

  mark(key: string, value: string): void {
    this.marks.push([key, value]);
    this.schedule();
  }

  push(queue: string, message: string): void {
    const list = this.pushes.get(queue);
    if (list) list.push(message);
    else this.pushes.set(queue, [message]);
    this.schedule();
  }

  /**
   * Appends `entry` to its stream, then pushes `messages` to `queue` (none when `queue` is undefined);
   * resolves once the stream holds the entry. The pushes never run without the append:
   * - on one node both go in the same write on one connection, the append first. Redis runs a
   *   connection's commands in order, and a write cut off by a dying process is cut after a whole
   *   command. (What makes Redis refuse an append — out of memory, a read-only replica — refuses the
   *   push alike; only a stream key of another type, which takes a bug, would fail the append alone.)
   * - on a cluster the stream and the queue live on different nodes, so the pushes leave once the
   *   append has answered: one round trip more.
   */
  append(entry: StreamEntry, queue: string | undefined, messages: readonly string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const settle = (err: Error | null) => (err ? reject(err) : resolve());
      const pushes = queue !== undefined && messages.length > 0 ? { queue, messages } : undefined;
      if (pushes && !this.redis.isCluster) {
        for (const m of pushes.messages) this.push(pushes.queue, m);
        this.appends.push({ entry, pushAfter: undefined, settle });
      } else {
        this.appends.push({ entry, pushAfter: pushes, settle });
      }
      this.schedule();
    });
  }

  private appended(append: LoggedAppend, err: Error | null): void {
    // Pushed before the caller hears of it, so whatever it pushes next to the same queue (its reply) follows them.
    if (!err && append.pushAfter) for (const m of append.pushAfter.messages) this.push(append.pushAfter.queue, m);
    append.settle(err);
  }

  ack(stream: string, group: string, id: string): void {
    const entry = this.acks.get(stream);
    if (entry) entry.ids.push(id);
    else this.acks.set(stream, { group, ids: [id] });
    this.schedule();
  }

  /** Resolves when everything queued so far has been written. */
  async drain(): Promise<void> {
    if (this.scheduled) this.flush();
    if (this.expiring.size > 0) this.expire();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    const writes = new SlotPipelines(this.redis);
    for (const [key, value] of this.marks) writes.for(key).set(key, value, 'PX', this.markTtlMs);
    for (const append of this.appends) {
      const { stream, fields, ttlMs } = append.entry;
      const p = writes.for(stream);
      p.xadd(stream, '*', ...fields, (err) => this.appended(append, err ?? null));
      if (ttlMs !== undefined) p.pexpire(stream, ttlMs);
    }
    for (const [queue, messages] of this.pushes) {
      writes.for(queue).rpush(queue, ...messages);
      this.expireSoon(queue);
    }
    // On one node the acks follow in the same pipeline. On a cluster the replies live in other slots
    // (the callers' `{instance}`), so the acks leave once the replies have answered.
    const acks = this.redis.isCluster ? new SlotPipelines(this.redis) : writes;
    for (const [stream, { group, ids }] of this.acks) acks.for(stream).xack(stream, group, ...ids);
    this.marks = [];
    this.appends = [];
    this.pushes = new Map();
    this.acks = new Map();
    this.track(acks === writes ? writes.exec() : writes.exec().finally(() => acks.exec()));
  }

  /**
   * A callback queue expires CALLBACK_EXPIRY_DELAY_MS after the pushes that made it, so replies to a
   * caller that died do not stay forever. Its live reader empties it (and Redis deletes it) at once,
   * so the expiry is not on the reply's path: one PEXPIRE per queue per delay, after that delay's pushes,
   * stands for one per push. The pending ones are sent at once by drain (a clean shutdown).
   */
  private expireSoon(queue: string): void {
    this.expiring.add(queue);
    if (this.expiryTimer) return;
    this.expiryTimer = setTimeout(() => this.expire(), CALLBACK_EXPIRY_DELAY_MS);
    this.expiryTimer.unref();
  }

  private expire(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const writes = new SlotPipelines(this.redis);
    for (const queue of this.expiring) writes.for(queue).pexpire(queue, this.callbackTtlMs);
    this.expiring.clear();
    this.track(writes.exec());
  }

  private track(write: Promise<unknown>): void {
    const settled = write.catch(() => null);
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }
}
