import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { isChannelConversationId, LEASE_RELEASE_SCRIPT, LEASE_RENEW_SCRIPT } from '@parley/contracts';
import { decodeFacts, decodeMessage, decodeMeta, decodeTail, encodeFacts, encodeMessageBody, titleFrom, type MessageFacts } from './codec.js';
import { execAll } from './exec.js';
import { conversationKeys, migrationDueKey, sessionKey, tenantIndexKey, userIndexKey } from './keys.js';
import { APPEND, CLOSE, FINISH, runScript, ZREM_IF_SCORE } from './scripts.js';
import type { AppendInput, ConversationRecord, HotCopy, HotMeta, HotTail, StoredMessage } from './types.js';

export interface HotStoreOptions {
  /** The bus prefix: every key lives under it. */
  prefix: string;
  /** An open conversation idle this long is due for migration. */
  idleMs?: number;
  /** Safety net: hot keys expire this long after their last message, far beyond any migration delay. */
  ttlMs?: number;
}

export const DEFAULT_IDLE_MS = 30 * 60_000;
export const DEFAULT_TTL_MS = 7 * 24 * 60 * 60_000;

/** What an append script answered; `snapshot` only when it was asked for a tail. */
export type AppendOutcome =
  | {
      kind: 'ok' | 'dup';
      seq: number;
      tokenCount: number;
      createdConversation: boolean;
      lastActivityAt: number;
      dueAt: number;
      /** The conversation's owner as stored (the first save that named one), for the user's index. */
      userId: string | null;
      snapshot: HotTail | null;
    }
  | { kind: 'missing' | 'lease' | 'tenant' | 'fenced' };

export interface AppendOptions {
  /** Re-create the hot copy (it is not hot) from this header, under the lease. */
  init?: HotInit | undefined;
  /** Also answer the header and the newest `tail` messages as they are right after the write. */
  tail?: number | undefined;
}

/** The header a re-created hot copy starts from (from the archive, or empty for a new conversation). */
export interface HotInit {
  record: Omit<ConversationRecord, 'conversationId' | 'tenantId'>;
  leaseToken: string;
}

/**
 * Redis side of conversations: one conversation's keys change only inside Lua scripts; the
 * tenant index and the migration-due set are written after them, idempotently, so a redelivered
 * save repairs an index write that a crash cut off. No KEYS, no SCAN: every read starts from an
 * id or an index.
 */
export class HotStore {
  readonly prefix: string;
  readonly idleMs: number;
  readonly ttlMs: number;

  constructor(
    readonly redis: Redis | Cluster,
    opts: HotStoreOptions,
  ) {
    this.prefix = opts.prefix;
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
  }

  keys(conversationId: string) {
    return conversationKeys(this.prefix, conversationId);
  }

  async append(tenantId: string, input: AppendInput, now: number, opts: AppendOptions = {}): Promise<AppendOutcome> {
    const { init, tail } = opts;
    const k = this.keys(input.conversationId);
    const initJson = init
      ? JSON.stringify({
          a: init.record.agentId ?? input.agentId ?? '',
          ch: init.record.channel ?? input.channel ?? '',
          s: init.record.sessionId ?? input.sessionId ?? '',
          u: init.record.userId ?? input.userId ?? '',
          ti: init.record.title ?? '',
          st: init.record.status,
          n: init.record.messageCount,
          tc: init.record.tokenCount,
          ca: init.record.createdAt,
          la: init.record.lastActivityAt,
          cl: init.record.closedAt ?? '',
          du: init.record.status === 'closed' ? init.record.lastActivityAt : init.record.lastActivityAt + this.idleMs,
        })
      : '';
    const res = (await runScript(
      this.redis,
      APPEND,
      [k.meta, k.messages, k.ids, k.facts, k.lease, k.runLock],
      [
        tenantId,
        input.messageId,
        encodeMessageBody(input, now),
        encodeFacts(input, now),
        input.tokenCount,
        now,
        input.role,
        input.role === 'user' ? titleFrom(input.content) : '',
        input.agentId ?? '',
        input.channel ?? '',
        input.sessionId ?? '',
        input.userId ?? '',
        this.ttlMs,
        this.idleMs,
        init?.leaseToken ?? '',
        initJson,
        tail === undefined ? '' : Math.max(0, Math.floor(tail)),
        input.fence ?? '',
      ],
    )) as [string, ...unknown[]];
    const [kind] = res;
    if (kind === 'missing' || kind === 'lease' || kind === 'tenant' || kind === 'fenced') return { kind };
    const [, seqOrPrev, created, la, du, , user, rawMeta, rawTail] = res;
    let seq = Number(seqOrPrev);
    let tokenCount = input.tokenCount;
    if (kind === 'dup') {
      const [s, t] = String(seqOrPrev).split(':');
      seq = Number(s);
      tokenCount = Number(t);
    }
    return {
      kind: kind as 'ok' | 'dup',
      seq,
      tokenCount,
      createdConversation: Number(created) === 1,
      lastActivityAt: Number(la),
      dueAt: Number(du),
      userId: typeof user === 'string' && user !== '' ? user : null,
      snapshot: tail === undefined ? null : decodeTail(input.conversationId, rawMeta, rawTail),
    };
  }

  /** Makes the indexes agree with the conversation's header; repeated calls are harmless. */
  async index(
    tenantId: string,
    conversationId: string,
    lastActivityAt: number,
    dueAt: number,
    about: { sessionId?: string | undefined; userId?: string | null | undefined } = {},
  ): Promise<void> {
    const { sessionId, userId } = about;
    // The tenant's keys share the `{tenant:…}` slot: one pipeline. The migration index is a slot of its
    // own, so on a cluster it goes beside it; on one node it joins it (one write, not two).
    const p = this.redis.pipeline();
    // GT: a late pipeline of an older save must not move the entry back in time.
    p.zadd(tenantIndexKey(this.prefix, tenantId), 'GT', lastActivityAt, conversationId);
    const user = this.userIndex(tenantId, conversationId, userId);
    if (user) p.zadd(user, 'GT', lastActivityAt, conversationId);
    if (sessionId) p.set(sessionKey(this.prefix, tenantId, sessionId), conversationId, 'PX', this.ttlMs);
    const due = migrationDueKey(this.prefix);
    if (this.redis.isCluster) await Promise.all([execAll(p), this.redis.zadd(due, dueAt, conversationId)]);
    else await execAll(p.zadd(due, dueAt, conversationId));
  }

  async close(
    tenantId: string,
    conversationId: string,
    now: number,
  ): Promise<'missing' | 'tenant' | { lastActivityAt: number; dueAt: number; userId: string | null }> {
    const res = (await runScript(this.redis, CLOSE, [this.keys(conversationId).meta], [tenantId, now])) as [string, ...string[]];
    if (res[0] === 'missing' || res[0] === 'tenant') return res[0];
    return { lastActivityAt: Number(res[1]), dueAt: Number(res[2]), userId: res[4] ? res[4] : null };
  }

  /** The user's index a conversation belongs in: none for a channel's (its owner is a contact) or an unowned one. */
  private userIndex(tenantId: string, conversationId: string, userId: string | null | undefined): string | null {
    if (!userId || isChannelConversationId(conversationId)) return null;
    return userIndexKey(this.prefix, tenantId, userId);
  }

  async getMeta(conversationId: string): Promise<HotMeta | null> {
    return decodeMeta(conversationId, await this.redis.hgetall(this.keys(conversationId).meta));
  }

  async getMetas(conversationIds: string[]): Promise<Array<HotMeta | null>> {
    // One conversation per slot: sent together, not as one pipeline (which a cluster refuses across slots).
    const res = await Promise.all(conversationIds.map((id) => this.redis.hgetall(this.keys(id).meta)));
    return conversationIds.map((id, i) => decodeMeta(id, res[i] ?? {}));
  }

  /** Header and the newest `n` hot messages in one round trip (the get_context fast path). */
  async getMetaAndTail(conversationId: string, n: number): Promise<{ meta: HotMeta | null; messages: StoredMessage[] }> {
    const k = this.keys(conversationId);
    const [h, raw] = await execAll(this.redis.pipeline().hgetall(k.meta).lrange(k.messages, -n, -1));
    const meta = decodeMeta(conversationId, (h as Record<string, string> | undefined) ?? {});
    return { meta, messages: meta ? ((raw as string[] | undefined) ?? []).map(decodeMessage) : [] };
  }

  /** Hot messages with fromSeq ≤ seq ≤ toSeq, oldest first (seq ≤ meta.base are in the archive only). */
  async readRange(meta: HotMeta, fromSeq: number, toSeq: number): Promise<StoredMessage[]> {
    const start = Math.max(fromSeq, meta.base + 1) - meta.base - 1;
    const stop = Math.min(toSeq, meta.messageCount) - meta.base - 1;
    if (stop < start) return [];
    const raw = await this.redis.lrange(this.keys(meta.conversationId).messages, start, stop);
    return raw.map(decodeMessage);
  }

  /** A consistent snapshot (MULTI): header and every hot message agree on the last seq. */
  async readAll(conversationId: string): Promise<HotCopy | null> {
    const k = this.keys(conversationId);
    const [h, raw] = await execAll(this.redis.multi().hgetall(k.meta).lrange(k.messages, 0, -1));
    const meta = decodeMeta(conversationId, (h as Record<string, string> | undefined) ?? {});
    if (!meta) return null;
    return { meta, messages: ((raw as string[] | undefined) ?? []).map(decodeMessage) };
  }

  /** Every hot message of each conversation, oldest first, in one round trip (search matches them in PostgreSQL). */
  async readMessages(conversationIds: string[]): Promise<StoredMessage[][]> {
    if (conversationIds.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of conversationIds) p.lrange(this.keys(id).messages, 0, -1);
    const res = await execAll(p);
    return conversationIds.map((_, i) => ((res[i] as string[] | undefined) ?? []).map(decodeMessage));
  }

  async readFacts(conversationIds: string[]): Promise<MessageFacts[][]> {
    const res = await Promise.all(conversationIds.map((id) => this.redis.lrange(this.keys(id).facts, 0, -1)));
    return res.map((raw) => raw.map(decodeFacts));
  }

  /** Loads message ids of archived messages into a re-created hot copy, so their redelivery stays a duplicate. */
  async preloadIds(conversationId: string, entries: Array<{ messageId: string; seq: number; tokenCount: number }>): Promise<void> {
    const key = this.keys(conversationId).ids;
    for (let i = 0; i < entries.length; i += 1000) {
      const chunk = entries.slice(i, i + 1000).flatMap((e) => [e.messageId, `${e.seq}:${e.tokenCount}`]);
      // Unchecked, a failed chunk would let a redelivered archived message be stored again.
      await execAll(
        this.redis
          .pipeline()
          .hset(key, ...chunk)
          .pexpire(key, this.ttlMs),
      );
    }
  }

  async sessionConversation(tenantId: string, sessionId: string): Promise<string | null> {
    return this.redis.get(sessionKey(this.prefix, tenantId, sessionId));
  }

  /** Tenant index page: ids with score ≤ maxScore, newest first, from `offset`. */
  async tenantPage(tenantId: string, maxScore: number, offset: number, count: number): Promise<Array<{ conversationId: string; lastActivityAt: number }>> {
    const res = await this.redis.zrange(tenantIndexKey(this.prefix, tenantId), maxScore, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, count, 'WITHSCORES');
    const out: Array<{ conversationId: string; lastActivityAt: number }> = [];
    for (let i = 0; i + 1 < res.length; i += 2) out.push({ conversationId: res[i] as string, lastActivityAt: Number(res[i + 1]) });
    return out;
  }

  /** A user's index page (their own web and REST conversations): like tenantPage. */
  async userPage(
    tenantId: string,
    userId: string,
    maxScore: number,
    offset: number,
    count: number,
  ): Promise<Array<{ conversationId: string; lastActivityAt: number }>> {
    const res = await this.redis.zrange(userIndexKey(this.prefix, tenantId, userId), maxScore, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, count, 'WITHSCORES');
    const out: Array<{ conversationId: string; lastActivityAt: number }> = [];
    for (let i = 0; i + 1 < res.length; i += 2) out.push({ conversationId: res[i] as string, lastActivityAt: Number(res[i + 1]) });
    return out;
  }

  /** Every hot conversation of a tenant active at or after `since` (stats). */
  async tenantActiveSince(tenantId: string, since: number): Promise<string[]> {
    return this.redis.zrange(tenantIndexKey(this.prefix, tenantId), since, '+inf', 'BYSCORE');
  }

  // ---- migration side -------------------------------------------------------------------------

  /** Conversations due at `now`, most overdue first. */
  async pickDue(now: number, limit: number): Promise<Array<{ conversationId: string; dueAt: number }>> {
    const res = await this.redis.zrange(migrationDueKey(this.prefix), '-inf', now, 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES');
    const out: Array<{ conversationId: string; dueAt: number }> = [];
    for (let i = 0; i + 1 < res.length; i += 2) out.push({ conversationId: res[i] as string, dueAt: Number(res[i + 1]) });
    return out;
  }

  async dueCount(now?: number): Promise<number> {
    return this.redis.zcount(migrationDueKey(this.prefix), '-inf', now ?? '+inf');
  }

  async oldestDue(): Promise<{ conversationId: string; dueAt: number } | null> {
    const res = await this.redis.zrange(migrationDueKey(this.prefix), 0, 0, 'WITHSCORES');
    return res.length >= 2 ? { conversationId: res[0] as string, dueAt: Number(res[1]) } : null;
  }

  /** A per-conversation lease (SET NX PX); null when someone else holds it. */
  async acquireLease(conversationId: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.redis.set(this.keys(conversationId).lease, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async renewLease(conversationId: string, token: string, ttlMs: number): Promise<boolean> {
    return Number(await runScript(this.redis, LEASE_RENEW_SCRIPT, [this.keys(conversationId).lease], [token, ttlMs])) === 1;
  }

  async releaseLease(conversationId: string, token: string): Promise<void> {
    await runScript(this.redis, LEASE_RELEASE_SCRIPT, [this.keys(conversationId).lease], [token]);
  }

  /**
   * Deletes the hot copy after the archive commit, only if the lease is still ours and nothing was
   * appended since the snapshot; then drops the index entries the snapshot put there (only those:
   * a save that re-created the conversation meanwhile wrote newer scores, which stay).
   */
  async finishMigration(copy: HotCopy, leaseToken: string): Promise<'deleted' | 'changed' | 'lease_lost' | 'missing'> {
    const { meta } = copy;
    const k = this.keys(meta.conversationId);
    const res = (await runScript(this.redis, FINISH, [k.meta, k.messages, k.ids, k.facts, k.lease], [leaseToken, meta.messageCount, meta.lastActivityAt])) as
      'deleted' | 'changed' | 'lease_lost' | 'missing';
    if (res === 'deleted') await this.unindex(meta.tenantId, meta.conversationId, meta.lastActivityAt, meta.dueAt, meta.userId);
    return res;
  }

  /** Conditional removal from both indexes (an entry whose score moved on belongs to a newer save). */
  async unindex(tenantId: string, conversationId: string, lastActivityAt: number, dueAt: number, userId?: string | null): Promise<void> {
    const user = this.userIndex(tenantId, conversationId, userId);
    await Promise.all([
      runScript(this.redis, ZREM_IF_SCORE, [migrationDueKey(this.prefix)], [conversationId, dueAt]),
      runScript(this.redis, ZREM_IF_SCORE, [tenantIndexKey(this.prefix, tenantId)], [conversationId, lastActivityAt]),
      ...(user ? [runScript(this.redis, ZREM_IF_SCORE, [user], [conversationId, lastActivityAt])] : []),
    ]);
  }

  /** A due entry whose hot copy is gone (expired by the safety TTL, or already migrated): drop it if unchanged. */
  async dropStaleDue(conversationId: string, dueAt: number): Promise<void> {
    await runScript(this.redis, ZREM_IF_SCORE, [migrationDueKey(this.prefix)], [conversationId, dueAt]);
  }

  /** Lazy clean-up of a user index entry whose hot copy is gone. */
  async dropStaleUserEntry(tenantId: string, userId: string, conversationId: string, lastActivityAt: number): Promise<void> {
    await runScript(this.redis, ZREM_IF_SCORE, [userIndexKey(this.prefix, tenantId, userId)], [conversationId, lastActivityAt]);
  }

  /** Lazy clean-up of a tenant index entry whose hot copy is gone. */
  async dropStaleTenantEntry(tenantId: string, conversationId: string, lastActivityAt: number): Promise<void> {
    await runScript(this.redis, ZREM_IF_SCORE, [tenantIndexKey(this.prefix, tenantId)], [conversationId, lastActivityAt]);
  }
}
