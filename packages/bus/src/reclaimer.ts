import type { Logger } from 'pino';
import { errorMessage, type RedisClient } from './connection.js';
import { actionField, deliveryCounts, type RawEntry } from './stream-entries.js';

export interface ReclaimDeps {
  cmd: RedisClient;
  stream: string;
  group: string;
  consumer: string;
  /** Smallest visibility timeout among the service's action types. */
  visibilityMs: number;
  log: Logger;
  /** Entries this process is running now, with when their claim was last extended. */
  inFlight: Map<string, number>;
  freeSlots(): number;
  run(id: string, raw: string | undefined, attempt: number): void;
}

/**
 * Keeps claims alive and takes over abandoned ones.
 * - Heartbeat: an in-flight entry's idle time is reset (XCLAIM … JUSTID) every third of the
 *   visibility timeout, so a long handler is never taken from a live process.
 * - Reclaim: entries idle past the visibility timeout belong to a dead consumer; XAUTOCLAIM moves
 *   them here, and their delivery count decides between running again and the dead-letter stream.
 * The stream's visibility timeout is the smallest of its types': with heartbeats, a larger one
 * would only delay recovery.
 */
export class Reclaimer {
  private timer: NodeJS.Timeout | undefined;
  private cursor = '0-0';
  private busy = false;
  readonly intervalMs: number;

  constructor(private readonly d: ReclaimDeps) {
    this.intervalMs = Math.max(20, Math.min(Math.floor(d.visibilityMs / 3), 5_000));
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.heartbeat();
      await this.reclaim();
    } catch (err) {
      this.d.log.warn({ err: errorMessage(err) }, 'reclaim pass failed; will retry');
    } finally {
      this.busy = false;
    }
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    const due: string[] = [];
    for (const [id, beat] of this.d.inFlight) if (now - beat >= this.intervalMs) due.push(id);
    if (due.length === 0) return;
    await this.d.cmd.xclaim(this.d.stream, this.d.group, this.d.consumer, 0, ...due, 'JUSTID');
    for (const id of due) if (this.d.inFlight.has(id)) this.d.inFlight.set(id, now);
  }

  private async reclaim(): Promise<void> {
    const free = this.d.freeSlots();
    if (free <= 0) return;
    const res = (await this.d.cmd.xautoclaim(this.d.stream, this.d.group, this.d.consumer, this.d.visibilityMs, this.cursor, 'COUNT', free)) as [
      string,
      RawEntry[],
      string[],
    ];
    this.cursor = res[0];
    const entries = res[1].filter((e) => !this.d.inFlight.has(e[0]));
    if (entries.length === 0) return;
    const counts = await deliveryCounts(
      this.d.cmd,
      this.d.stream,
      this.d.group,
      entries.map((e) => e[0]),
    );
    for (const [id, fields] of entries) {
      const attempt = counts.get(id) ?? 2;
      this.d.log.warn({ entryId: id, attempt }, 'reclaimed an abandoned action');
      this.d.run(id, actionField(fields), attempt);
    }
  }
}
