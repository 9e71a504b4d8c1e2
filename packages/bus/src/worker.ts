import type { Logger } from 'pino';
import { blockingConnection, errorMessage, nodeServing, sleep, type RedisTarget, type RedisClient } from './connection.js';
import { Reclaimer } from './reclaimer.js';
import { actionField, deliveryCounts, ensureGroup, isNoGroup, type RawEntry } from './stream-entries.js';
import { trimByProgress } from './trimmer.js';
import type { WorkerCore } from './worker-core.js';
import type { WorkerHandle } from './types.js';
import type { Outbox } from './outbox.js';

export interface WorkerDeps {
  core: WorkerCore;
  cmd: RedisClient;
  outbox: Outbox;
  target: RedisTarget;
  service: string;
  consumer: string;
  visibilityMs: number;
  concurrency: number;
  batchSize: number;
  blockMs: number;
  graceMs: number;
  trimEveryMs: number;
  log: Logger;
}

type StreamReply = Array<[string, RawEntry[]]> | null;

/** One consumer of one service's stream: drains its own pending entries, then reads new ones. */
export class Worker implements WorkerHandle {
  readonly service: string;
  readonly consumer: string;
  private readonly inFlightBeats = new Map<string, number>();
  private readonly running: Set<Promise<void>> = new Set();
  private slotWaiter: (() => void) | undefined;
  private active = true;
  private loopAt = Date.now();
  private conn: RedisClient;
  private clientId: number | undefined;
  private loop: Promise<void>;
  private readonly reclaimer: Reclaimer;
  private trimTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: WorkerDeps) {
    this.service = d.service;
    this.consumer = d.consumer;
    this.conn = blockingConnection(d.target, `${d.consumer}:read`);
    this.conn.on('error', () => {}); // reconnects by itself; the loop logs failures
    this.reclaimer = new Reclaimer({
      cmd: d.cmd,
      stream: d.core.stream,
      group: d.core.group,
      consumer: d.consumer,
      visibilityMs: d.visibilityMs,
      log: d.log,
      inFlight: this.inFlightBeats,
      freeSlots: () => this.freeSlots(),
      run: (id, raw, attempt) => this.run(id, raw, attempt),
    });
    this.loop = this.start();
  }

  inFlight(): number {
    return this.inFlightBeats.size;
  }

  lastLoopAt(): number {
    return this.loopAt;
  }

  private freeSlots(): number {
    return this.d.concurrency - this.inFlightBeats.size;
  }

  private run(id: string, raw: string | undefined, attempt: number): void {
    this.inFlightBeats.set(id, Date.now());
    const p = this.d.core.process(id, raw, attempt).catch((err: unknown) => {
      this.d.log.error({ err: errorMessage(err), entryId: id }, 'action processing failed; it stays pending');
    });
    this.running.add(p);
    void p.finally(() => {
      this.running.delete(p);
      this.inFlightBeats.delete(id);
      const wake = this.slotWaiter;
      this.slotWaiter = undefined;
      wake?.();
    });
  }

  private async waitForSlot(): Promise<void> {
    while (this.active && this.freeSlots() <= 0) await new Promise<void>((r) => (this.slotWaiter = r));
  }

  private async start(): Promise<void> {
    const { core } = this.d;
    await this.retrying(() => ensureGroup(this.d.cmd, core.stream, core.group), 'create consumer group');
    await this.retrying(() => this.drainOwnPending(), 'drain own pending entries');
    this.reclaimer.start();
    this.trimTimer = setInterval(
      () =>
        void trimByProgress(this.d.cmd, core.stream).catch(() => {
          /* trimming is retried on the next tick */
        }),
      this.d.trimEveryMs,
    );
    this.trimTimer.unref();
    await this.readLoop();
  }

  /** A restarted consumer with the same name first finishes what it had been given. */
  private async drainOwnPending(): Promise<void> {
    const { core } = this.d;
    let last = '0';
    while (this.active) {
      await this.waitForSlot();
      const res = (await this.conn.xreadgroup(
        'GROUP',
        core.group,
        this.consumer,
        'COUNT',
        Math.min(100, this.freeSlots()),
        'STREAMS',
        core.stream,
        last,
      )) as StreamReply;
      const entries = res?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      const counts = await deliveryCounts(
        this.d.cmd,
        core.stream,
        core.group,
        entries.map((e) => e[0]),
      );
      for (const [id, fields] of entries) {
        if (fields === null)
          this.d.outbox.ack(core.stream, core.group, id); // trimmed while pending
        else this.run(id, actionField(fields), counts.get(id) ?? 2);
      }
      last = entries[entries.length - 1]![0];
    }
  }

  private async readLoop(): Promise<void> {
    const { core } = this.d;
    let backoff = 50;
    while (this.active) {
      await this.waitForSlot();
      if (!this.active) break;
      try {
        if (this.clientId === undefined) {
          // On a cluster the read's connection is the one to the node serving the stream; a keyed
          // command first loads the slot map (and follows a failover to the new master).
          await this.conn.exists(core.stream);
          this.clientId = Number(await nodeServing(this.conn, core.stream).client('ID'));
        }
        const count = Math.min(this.d.batchSize, this.freeSlots());
        const res = (await this.conn.xreadgroup(
          'GROUP',
          core.group,
          this.consumer,
          'COUNT',
          count,
          'BLOCK',
          this.d.blockMs,
          'STREAMS',
          core.stream,
          '>',
        )) as StreamReply;
        this.loopAt = Date.now();
        backoff = 50;
        const entries = res?.[0]?.[1];
        if (entries) for (const [id, fields] of entries) this.run(id, actionField(fields), 1);
      } catch (err) {
        if (!this.active) break;
        this.clientId = undefined;
        if (isNoGroup(err)) {
          // Redis lost the stream (restart without persistence, deletion): recreate, don't spin.
          this.d.log.warn({ stream: core.stream }, 'consumer group missing; recreating it');
          await ensureGroup(this.d.cmd, core.stream, core.group).catch(() => {
            /* a failure here shows again at the next read, which retries */
          });
        } else {
          this.d.log.warn({ err: errorMessage(err) }, 'stream read failed; retrying');
        }
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  private async retrying(fn: () => Promise<void>, what: string): Promise<void> {
    let backoff = 100;
    while (this.active) {
      try {
        return await fn();
      } catch (err) {
        this.d.log.warn({ err: errorMessage(err) }, `${what} failed; retrying`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  /**
   * Ends a blocked XREADGROUP at once. A cluster client re-sends a read whose connection dropped on a
   * new connection, which the remembered CLIENT ID no longer names (UNBLOCK answers 0): then the read
   * is ended by closing its connection; an entry handed to it in that instant stays pending and is reclaimed.
   */
  private async unblockRead(): Promise<void> {
    const blocked = this.clientId;
    if (blocked === undefined) return;
    try {
      // The keyed command first (re)connects the cluster client to the stream's node, so it can be named.
      await this.d.cmd.exists(this.d.core.stream);
      const unblocked = await nodeServing(this.d.cmd, this.d.core.stream).call('CLIENT', 'UNBLOCK', blocked);
      if (unblocked === 1) return;
    } catch {
      /* closing the connection below ends the read as well */
    }
    this.conn.disconnect();
  }

  /** Stop reading, let in-flight handlers finish within the grace period, ack, close. */
  async stop(graceMs = this.d.graceMs): Promise<void> {
    if (!this.active) return;
    this.active = false;
    this.reclaimer.stop();
    if (this.trimTimer) clearInterval(this.trimTimer);
    this.slotWaiter?.();
    await this.unblockRead();
    await Promise.race([this.loop, sleep(this.d.blockMs + 500)]);
    const finished = Promise.allSettled([...this.running]);
    const inTime = await Promise.race([finished.then(() => true), sleep(graceMs).then(() => false)]);
    if (!inTime) {
      this.d.log.warn({ left: this.running.size }, 'grace period over; aborting handlers, their actions will be reclaimed');
      for (const { controller } of this.d.core.controllers.values()) controller.abort(new Error('worker shutting down'));
    }
    await this.d.outbox.drain();
    this.conn.disconnect();
  }
}
