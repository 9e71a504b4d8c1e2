/**
 * Moves ONE conversation from Redis to PostgreSQL. The order of the steps is the whole safety
 * argument (see README "Crash safety"):
 *
 *   lease (SET NX PX) → snapshot (MULTI) → copy (one PG transaction, idempotent)
 *     → delete (Lua: only if the lease is still ours and nothing changed since the snapshot)
 *
 * Every step before the delete leaves the hot copy untouched, and copying the same snapshot again
 * changes nothing, so a crash anywhere costs at most a repeated copy once the lease expires.
 */
import { copyToArchive, getArchivedConversation, migrationDueKey, type HotCopy, type HotStore } from '@parley/conversation-store';
import type { Db } from '@parley/db/client';
import type { CrashPoint } from '../env.js';
import type { DatabaseGate } from './database.js';
import type { MigrationCounters } from './stats.js';

export type SkipReason =
  /** Another replica (or a save re-opening it) holds the conversation's lease. */
  | 'leased'
  /** No hot copy: already migrated, or never existed. */
  | 'not_hot'
  /** A message or a close landed after the snapshot: the hot copy stays and is due again. */
  | 'changed'
  /** The lease expired during the copy and someone else took over. */
  | 'lease_lost'
  /** Open and active within the idle threshold (the loop only; the action migrates anyway). */
  | 'not_idle';

export type MigrateResult =
  | { migrated: true; tenantId: string; messages: number; inserted: number }
  | { migrated: false; reason: SkipReason; tenantId?: string; messages: number };

export interface MigrateOptions {
  /** The loop's idle guard; absent, an open conversation is migrated however recent it is. */
  idleMs?: number;
  /** The action's tenant: a conversation of another tenant is reported as not found. */
  tenantId?: string;
}

/** The conversation does not exist for this tenant (the caller answers `not_found`). */
export class NotFoundError extends Error {
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} not found`);
    this.name = 'NotFoundError';
  }
}

export interface MigratorDeps {
  hot: HotStore;
  db: Db;
  gate: DatabaseGate;
  counters: MigrationCounters;
  leaseMs: number;
  /** Test hook: called after each step; the service's hook SIGKILLs the process at the configured one. */
  afterStep?: (step: CrashPoint) => Promise<void> | void;
  now?: () => number;
}

export class Migrator {
  private readonly now: () => number;

  constructor(private readonly deps: MigratorDeps) {
    this.now = deps.now ?? Date.now;
  }

  async migrate(conversationId: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
    const { hot, leaseMs } = this.deps;
    await this.deps.gate.ensureSchema();
    const token = await hot.acquireLease(conversationId, leaseMs);
    if (!token) return { migrated: false, reason: 'leased', messages: 0 };
    let leaseGone = false;
    try {
      await this.step('lease');
      const copy = await hot.readAll(conversationId);
      if (!copy) return await this.notHot(conversationId, opts.tenantId);
      if (opts.tenantId !== undefined && copy.meta.tenantId !== opts.tenantId) throw new NotFoundError(conversationId);
      if (opts.idleMs !== undefined && !this.isDue(copy, opts.idleMs)) {
        await this.postpone(conversationId, copy.meta.lastActivityAt + opts.idleMs);
        return { migrated: false, reason: 'not_idle', tenantId: copy.meta.tenantId, messages: 0 };
      }
      await this.step('snapshot');
      const { inserted } = await this.copyKeepingLease(copy, token);
      await this.step('copy');
      const res = await hot.finishMigration(copy, token);
      leaseGone = res !== 'changed';
      await this.step('delete');
      const tenantId = copy.meta.tenantId;
      const messages = copy.messages.length;
      if (res === 'deleted') {
        await this.deps.counters.recordMigrated(messages);
        return { migrated: true, tenantId, messages, inserted };
      }
      return { migrated: false, reason: res === 'missing' ? 'not_hot' : res, tenantId, messages };
    } catch (err) {
      if (!(err instanceof NotFoundError)) await this.deps.counters.recordFailed().catch(() => {});
      throw err;
    } finally {
      if (!leaseGone) await hot.releaseLease(conversationId, token).catch(() => {});
    }
  }

  /** Closed conversations are due at once; open ones once idle past the threshold. */
  private isDue(copy: HotCopy, idleMs: number): boolean {
    return copy.meta.status === 'closed' || copy.meta.lastActivityAt + idleMs <= this.now();
  }

  /**
   * The conversation service computed the due time with its own idle setting; when ours is longer,
   * move the entry to our due time. XX: never re-adds an entry a migration just removed; GT: a
   * newer save's later due time wins.
   */
  private async postpone(conversationId: string, dueAt: number): Promise<void> {
    const { hot } = this.deps;
    await hot.redis.zadd(migrationDueKey(hot.prefix), 'XX', 'GT', dueAt, conversationId);
  }

  private async notHot(conversationId: string, tenantId: string | undefined): Promise<MigrateResult> {
    if (tenantId === undefined) return { migrated: false, reason: 'not_hot', messages: 0 };
    const archived = await getArchivedConversation(this.deps.db, conversationId);
    if (!archived || archived.tenantId !== tenantId) throw new NotFoundError(conversationId);
    return { migrated: false, reason: 'not_hot', tenantId, messages: 0 };
  }

  /**
   * A copy of a very long conversation may outlast the lease; renewing it keeps a second replica
   * from copying the same rows in parallel (harmless, as inserts are idempotent, but wasted work).
   */
  private async copyKeepingLease(copy: HotCopy, token: string): Promise<{ inserted: number }> {
    const { hot, leaseMs } = this.deps;
    const timer = setInterval(() => {
      void hot.renewLease(copy.meta.conversationId, token, leaseMs).catch(() => {});
    }, Math.max(50, Math.floor(leaseMs / 3)));
    try {
      return await copyToArchive(this.deps.db, copy);
    } finally {
      clearInterval(timer);
    }
  }

  private async step(point: CrashPoint): Promise<void> {
    if (this.deps.afterStep) await this.deps.afterStep(point);
  }
}
