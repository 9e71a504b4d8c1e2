/**
 * The migration sequence, step by step, for apps/migration to drive (its loop, replicas, backoff
 * and metrics are its own). `migrateConversation` is the reference order of the steps.
 */
import type { Db } from '@parley/db/client';
import { copyToArchive } from './archive.js';
import type { HotStore } from './hot-store.js';

export type MigrateOutcome =
  { migrated: true; messages: number; inserted: number } | { migrated: false; reason: 'leased' | 'not_hot' | 'changed' | 'lease_lost'; messages: number };

/**
 * Lease → snapshot → copy in one transaction → delete only if unchanged. A save that lands in
 * between is never lost: it either makes the snapshot stale (the hot copy stays, is due again and
 * the next copy adds the new message) or, after the delete, re-opens the conversation from the
 * archive under the same lease. A crash anywhere leaves the hot copy; copying again is idempotent.
 * Archive errors propagate with the hot copy intact and the lease released.
 */
export async function migrateConversation(hot: HotStore, db: Db, conversationId: string, opts: { leaseMs?: number } = {}): Promise<MigrateOutcome> {
  const token = await hot.acquireLease(conversationId, opts.leaseMs ?? 30_000);
  if (!token) return { migrated: false, reason: 'leased', messages: 0 };
  let finished = false;
  try {
    const copy = await hot.readAll(conversationId);
    if (!copy) return { migrated: false, reason: 'not_hot', messages: 0 };
    const { inserted } = await copyToArchive(db, copy);
    const res = await hot.finishMigration(copy, token);
    finished = res !== 'changed';
    if (res === 'deleted') return { migrated: true, messages: copy.messages.length, inserted };
    return { migrated: false, reason: res === 'missing' ? 'not_hot' : res, messages: copy.messages.length };
  } finally {
    if (!finished) await hot.releaseLease(conversationId, token);
  }
}
