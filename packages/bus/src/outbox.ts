import type { RedisClient } from './connection.js';
import { SlotPipelines } from './slot-pipelines.js';

/** How long after a push its callback queue's TTL is (re)set; see Outbox.expireSoon. */
export const CALLBACK_EXPIRY_DELAY_MS = 1_000;

/**
 * Everything a worker writes after a handler finishes — idempotency marks, replies and events to
 * callback queues, XACKs — collected for one event-loop turn and issued together as one explicit
 * pipeline: one write to Redis per turn, and one XACK per stream however many entries finished. (Left to
 * auto-pipelining, the write would wait yet another turn — behind, say, the rest of a model stream
 * that arrived in one read — and a run's first token would leave after its last.)
 * Order inside a flush is marks → replies → acks, so an acked mutation always has its mark and its
 * reply already written ("reply then XACK"). On a cluster it is one pipeline per slot (see flush).
 */
export class Outbox {
  private marks: Array<[string, string]> = [];
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
    for (const [queue, messages] of this.pushes) {
      writes.for(queue).rpush(queue, ...messages);
      this.expireSoon(queue);
    }
    // On one node the acks follow in the same pipeline. On a cluster the replies live in other slots
    // (the callers' `{instance}`), so the acks leave once the replies have answered.
    const acks = this.redis.isCluster ? new SlotPipelines(this.redis) : writes;
    for (const [stream, { group, ids }] of this.acks) acks.for(stream).xack(stream, group, ...ids);
    this.marks = [];
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
