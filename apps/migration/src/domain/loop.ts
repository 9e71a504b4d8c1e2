/**
 * The migration loop of one replica. Every replica runs the same loop over the same due set; the
 * per-conversation lease is what keeps them from migrating one conversation twice, so the loop
 * itself needs no coordination beyond the shared pause switch.
 */
import type { HotStore } from '@parley/conversation-store';
import { DatabaseRefusedError, describeDbError, isDatabaseUnavailable } from '@parley/db';
import type { Logger } from 'pino';
import type { LoopConfig } from '../env.js';
import type { MigrationMetrics } from './metrics.js';
import type { GroupOutcome, Migrator } from './migrator.js';
import type { MigrationCounters } from '../stores/migration-counters.js';

export interface TickResult {
  picked: number;
  migrated: number;
  messages: number;
  skipped: number;
  failed: number;
  /** PostgreSQL was unreachable: the rest of the batch was left hot. */
  unavailable: boolean;
  /** How long to wait before the next tick. */
  nextInMs: number;
}

interface Backoff {
  attempts: number;
  retryAt: number;
}

export class MigrationLoop {
  private running = false;
  /** Set by stop(): a batch in progress takes no further conversations. */
  private stopping = false;
  private done: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private outageSince: number | null = null;
  private outages = 0;
  private lastOutageReason = '';
  /** Conversations that failed for a reason of their own, skipped by this replica until retryAt. */
  private readonly held = new Map<string, Backoff>();
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      hot: HotStore;
      migrator: Migrator;
      counters: MigrationCounters;
      config: LoopConfig;
      log: Logger;
      metrics?: MigrationMetrics;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.done = this.run();
  }

  /** Stops after the conversations in flight are finished (each is safe to abandon anyway). */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.wake?.();
    await this.done;
  }

  /** For readiness and logs: since when PostgreSQL has been failing this loop, if it is. */
  outage(): { since: number; attempts: number } | null {
    return this.outageSince === null ? null : { since: this.outageSince, attempts: this.outages };
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.deps.config.intervalMs;
      try {
        const started = performance.now();
        const res = await this.tick();
        this.deps.metrics?.observeTick(res, (performance.now() - started) / 1000);
        wait = res.nextInMs;
      } catch (err) {
        // Redis trouble (the bus reconnects on its own): try again at the next interval.
        this.deps.log.error({ err }, 'migration tick failed');
      }
      if (wait > 0 && this.running) await this.sleep(wait);
    }
  }

  async tick(): Promise<TickResult> {
    const { hot, counters, config } = this.deps;
    const res: TickResult = { picked: 0, migrated: 0, messages: 0, skipped: 0, failed: 0, unavailable: false, nextInMs: config.intervalMs };
    if (await counters.isPaused()) return res;
    const now = this.now();
    for (const [id, b] of this.held) if (b.retryAt <= now) this.held.delete(id);
    const due = (await hot.pickDue(now, config.batchSize + this.held.size)).filter((d) => !this.held.has(d.conversationId)).slice(0, config.batchSize);
    res.picked = due.length;
    if (due.length === 0) return this.recovered(res);
    // Replicas read the same head of the due set; walking it in different orders splits it between them.
    shuffle(due);
    const started = performance.now();
    const groups: Array<typeof due> = [];
    for (let i = 0; i < due.length; i += config.groupSize) groups.push(due.slice(i, i + config.groupSize));
    let next = 0;
    const worker = async () => {
      while (next < groups.length && !res.unavailable && !this.stopping) await this.group(groups[next++]!, res);
    };
    await Promise.all(Array.from({ length: Math.min(config.concurrency, groups.length) }, worker));
    if (res.unavailable) return this.backingOff(res);
    if (res.migrated > 0) {
      this.deps.log.info(
        { migrated: res.migrated, messages: res.messages, skipped: res.skipped, failed: res.failed, ms: Math.round(performance.now() - started) },
        'migrated batch',
      );
    }
    this.recovered(res);
    // A full batch means more is waiting: drain without sleeping (the due set is the backlog).
    res.nextInMs = due.length >= config.batchSize && res.migrated > 0 ? 0 : config.intervalMs;
    return res;
  }

  private async group(items: Array<{ conversationId: string; dueAt: number }>, res: TickResult): Promise<void> {
    const { migrator, hot, config, log } = this.deps;
    let outcome: GroupOutcome;
    try {
      outcome = await migrator.migrateGroup(
        items.map((d) => d.conversationId),
        { idleMs: config.idleMs },
      );
    } catch (err) {
      res.failed += items.length;
      if (isDatabaseUnavailable(err) || err instanceof DatabaseRefusedError) {
        // A schema that is behind fails every copy the same way: an outage too, and /readyz names it.
        res.unavailable = true;
        this.lastOutageReason = err instanceof DatabaseRefusedError ? err.message : describeDbError(err);
        return;
      }
      for (const d of items) this.hold(d.conversationId, err);
      return;
    }
    for (const d of items) {
      const r = outcome.get(d.conversationId);
      if (!r) continue;
      if (r instanceof Error) {
        res.failed++;
        this.hold(d.conversationId, r);
      } else if (r.migrated) {
        res.migrated++;
        res.messages += r.messages;
        log.debug({ conversationId: d.conversationId, tenantId: r.tenantId, messages: r.messages, inserted: r.inserted }, 'migrated conversation');
      } else {
        res.skipped++;
        // The hot copy is gone (expired by the safety TTL, or migrated by another replica): the entry is stale.
        if (r.reason === 'not_hot') await hot.dropStaleDue(d.conversationId, d.dueAt);
      }
    }
  }

  /** A failure of this conversation alone: this replica leaves it alone for a while; it stays hot. */
  private hold(conversationId: string, err: unknown): void {
    const b = this.held.get(conversationId) ?? { attempts: 0, retryAt: 0 };
    b.attempts++;
    b.retryAt = this.now() + this.backoffMs(b.attempts);
    this.held.set(conversationId, b);
    this.deps.log.error({ err, conversationId, attempts: b.attempts, retryInMs: b.retryAt - this.now() }, 'migration of a conversation failed; it stays hot');
  }

  private backingOff(res: TickResult): TickResult {
    this.outages++;
    if (this.outageSince === null) this.outageSince = this.now();
    res.nextInMs = this.backoffMs(this.outages);
    const log = this.outages === 1 ? this.deps.log.warn.bind(this.deps.log) : this.deps.log.debug.bind(this.deps.log);
    log(
      { reason: this.lastOutageReason, attempts: this.outages, retryInMs: res.nextInMs },
      'PostgreSQL unavailable; conversations stay in Redis, retrying with backoff',
    );
    return res;
  }

  private recovered(res: TickResult): TickResult {
    if (this.outageSince !== null && !res.unavailable && res.picked > 0) {
      this.deps.log.info({ downMs: this.now() - this.outageSince, attempts: this.outages }, 'PostgreSQL is back; migration resumed');
      this.outageSince = null;
      this.outages = 0;
    }
    return res;
  }

  /** Exponential with jitter, so replicas that failed together do not retry together. */
  private backoffMs(attempt: number): number {
    const { backoffMs, backoffMaxMs } = this.deps.config;
    const cap = Math.min(backoffMaxMs, backoffMs * 2 ** Math.min(attempt - 1, 20));
    return Math.round(cap / 2 + (Math.random() * cap) / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

function shuffle<T>(xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
}
