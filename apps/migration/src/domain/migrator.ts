/**
 * Moves conversations from Redis to PostgreSQL. The order of the steps is the whole safety
 * argument (see README "Crash safety"):
 *
 *   lease (SET NX PX) → snapshot (MULTI) → copy (PG transaction, idempotent)
 *     → delete (Lua: only if the lease is still ours and nothing changed since the snapshot)
 *
 * Every step before the delete leaves the hot copy untouched, and copying the same snapshot again
 * changes nothing, so a crash anywhere costs at most a repeated copy once the lease expires.
 *
 * Group commit: a group of conversations is copied in one transaction of two statements (headers,
 * messages). Every conversation is still all-or-nothing, but the group pays for one WAL flush and
 * two round trips instead of a flush and several round trips per conversation (the flush is most
 * of a small copy's cost). When PostgreSQL rejects the group for a reason of one conversation, the
 * group is copied again one conversation per transaction, so only that one stays behind.
 */
import { copyManyToArchive, copyToArchive, getArchivedConversation, migrationDueKey, type HotCopy, type HotStore } from '@parley/conversation-store';
import { isDatabaseUnavailable, type Database } from '@parley/db';
import type { Db } from '@parley/db/client';
import type { CrashPoint } from '../env.js';
import type { MigrationCounters } from '../stores/migration-counters.js';

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
  { migrated: true; tenantId: string; messages: number; inserted: number } | { migrated: false; reason: SkipReason; tenantId?: string; messages: number };

/** Per conversation: what happened, or the error of that conversation alone. */
export type GroupOutcome = Map<string, MigrateResult | Error>;

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
  /** The schema check, passed once before the first copy (PostgreSQL may have been down at start). */
  schema: Pick<Database, 'checkSchema'>;
  counters: MigrationCounters;
  leaseMs: number;
  /** Test hook: called after each step; the service's hook SIGKILLs the process at the configured one. */
  afterStep?: (step: CrashPoint) => Promise<void> | void;
  now?: () => number;
}

interface Held {
  id: string;
  token: string;
  copy?: HotCopy;
  /** The lease is gone (deleted with the hot copy, or taken over): nothing to release. */
  gone?: boolean;
}

export class Migrator {
  private readonly now: () => number;

  constructor(private readonly deps: MigratorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** One conversation (the action): its own error is thrown. */
  async migrate(conversationId: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
    const r = (await this.migrateGroup([conversationId], opts)).get(conversationId);
    if (!r) throw new Error(`no outcome for ${conversationId}`);
    if (r instanceof Error) throw r;
    return r;
  }

  /**
   * A group in one transaction. Throws only when PostgreSQL is unavailable (the whole group stays
   * hot); an error of one conversation is returned as its outcome.
   */
  async migrateGroup(ids: string[], opts: MigrateOptions = {}): Promise<GroupOutcome> {
    const { hot, leaseMs } = this.deps;
    await this.deps.schema.checkSchema();
    const out: GroupOutcome = new Map();
    const tokens = await Promise.all(ids.map((id) => hot.acquireLease(id, leaseMs)));
    const held: Held[] = [];
    ids.forEach((id, i) => {
      const token = tokens[i];
      if (token) held.push({ id, token });
      else out.set(id, { migrated: false, reason: 'leased', messages: 0 });
    });
    if (held.length === 0) return out;
    try {
      await this.step('lease');
      await Promise.all(held.map((h) => this.snapshot(h, opts, out)));
      const toCopy = held.filter((h): h is Held & { copy: HotCopy } => h.copy !== undefined);
      await this.step('snapshot');
      if (toCopy.length === 0) return out;
      const inserted = await this.copyKeepingLeases(toCopy, out);
      await this.step('copy');
      await this.finish(toCopy, inserted, out);
      await this.step('delete');
      const failed = [...out.values()].filter((r) => r instanceof Error && !(r instanceof NotFoundError)).length;
      if (failed > 0)
        await this.deps.counters.recordFailed(failed).catch(() => {
          /* the counter is advisory; the failures are logged per conversation */
        });
      return out;
    } catch (err) {
      await this.deps.counters.recordFailed(held.length).catch(() => {
        /* the counter is advisory; the error itself is rethrown below */
      });
      throw err;
    } finally {
      await Promise.all(
        held
          .filter((h) => !h.gone)
          .map((h) =>
            hot.releaseLease(h.id, h.token).catch(() => {
              /* an unreleased lease expires on its own */
            }),
          ),
      );
    }
  }

  private async snapshot(h: Held, opts: MigrateOptions, out: GroupOutcome): Promise<void> {
    const copy = await this.deps.hot.readAll(h.id);
    if (!copy) {
      out.set(h.id, await this.notHot(h.id, opts.tenantId).catch((err: Error) => err));
    } else if (opts.tenantId !== undefined && copy.meta.tenantId !== opts.tenantId) {
      out.set(h.id, new NotFoundError(h.id));
    } else if (opts.idleMs !== undefined && !this.isDue(copy, opts.idleMs)) {
      await this.postpone(h.id, copy.meta.lastActivityAt + opts.idleMs);
      out.set(h.id, { migrated: false, reason: 'not_idle', tenantId: copy.meta.tenantId, messages: 0 });
    } else {
      h.copy = copy;
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
   * Renewing the leases while a long copy runs keeps a second replica from copying the same rows
   * in parallel (harmless, as inserts are idempotent, but wasted work).
   */
  private async copyKeepingLeases(group: Array<Held & { copy: HotCopy }>, out: GroupOutcome): Promise<Map<string, number>> {
    const { hot, leaseMs } = this.deps;
    const timer = setInterval(
      () => {
        for (const h of group)
          void hot.renewLease(h.id, h.token, leaseMs).catch(() => {
            /* a failed renewal shows as a lost lease at the next write */
          });
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    try {
      return await this.copy(group, out);
    } finally {
      clearInterval(timer);
    }
  }

  private async copy(group: Array<Held & { copy: HotCopy }>, out: GroupOutcome): Promise<Map<string, number>> {
    if (group.length > 1) {
      try {
        return await copyManyToArchive(
          this.deps.db,
          group.map((h) => h.copy),
        );
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        // One conversation PostgreSQL rejects fails the whole statement: copy one by one to find it.
      }
    }
    const inserted = new Map<string, number>();
    for (const h of group) {
      try {
        inserted.set(h.id, (await copyToArchive(this.deps.db, h.copy)).inserted);
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        out.set(h.id, err instanceof Error ? err : new Error(String(err)));
      }
    }
    return inserted;
  }

  private async finish(group: Array<Held & { copy: HotCopy }>, inserted: Map<string, number>, out: GroupOutcome): Promise<void> {
    const { hot } = this.deps;
    let conversations = 0;
    let messages = 0;
    await Promise.all(
      group.map(async (h) => {
        const n = inserted.get(h.id);
        if (n === undefined) return; // its copy failed: the outcome is already its error
        const res = await hot.finishMigration(h.copy, h.token);
        h.gone = res !== 'changed';
        const tenantId = h.copy.meta.tenantId;
        const count = h.copy.messages.length;
        if (res === 'deleted') {
          conversations++;
          messages += count;
          out.set(h.id, { migrated: true, tenantId, messages: count, inserted: n });
        } else {
          out.set(h.id, { migrated: false, reason: res === 'missing' ? 'not_hot' : res, tenantId, messages: count });
        }
      }),
    );
    if (conversations > 0) await this.deps.counters.recordMigrated(conversations, messages);
  }

  private async step(point: CrashPoint): Promise<void> {
    if (this.deps.afterStep) await this.deps.afterStep(point);
  }
}
