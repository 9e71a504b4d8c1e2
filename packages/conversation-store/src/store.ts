import type { Db } from '@parley/db/client';
import { archivedMessageIds, closeArchived, getArchivedConversation } from './archive.js';
import { type HotStore, type AppendOutcome, type HotInit } from './hot-store.js';
import type { AppendInput, AppendResult, ConversationRecord, HotMeta, HotTail } from './types.js';

/** An append the script accepted (stored now, or stored before). */
type Appended = Extract<AppendOutcome, { kind: 'ok' | 'dup' }>;

/** The conversation is unknown, or belongs to another tenant: callers answer `not_found` either way. */
export class ConversationNotFoundError extends Error {
  constructor(
    readonly conversationId: string,
    /** The id is used by another tenant (ids are global): the gateway must not let a client claim it. Never shown to a client. */
    readonly otherTenant = false,
  ) {
    super(`conversation ${conversationId} not found`);
    this.name = 'ConversationNotFoundError';
  }
}

/** How long a save waits for a migration of the same conversation to finish before giving up (retryable). */
/** A fenced save refused: the conversation's run lock is not (or no longer) the caller's. */
export class ConversationFencedError extends Error {
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} is no longer this run's (another run holds its lock); nothing was saved`);
    this.name = 'ConversationFencedError';
  }
}

export class ConversationBusyError extends Error {
  constructor(readonly conversationId: string) {
    super(`conversation ${conversationId} is being migrated; retry`);
    this.name = 'ConversationBusyError';
  }
}

export interface ConversationStoreOptions {
  /** Lease taken to re-create a hot copy; far longer than one archive read. */
  reopenLeaseMs?: number;
  /** How long a save waits for a migration lease held by someone else. */
  reopenWaitMs?: number;
  now?: () => number;
}

/**
 * Hot store + archive behind the writes of the conversation service. The one subtle path: a save
 * to a conversation that is not hot (new, or already migrated) re-creates the hot copy from the
 * archive under the conversation's lease, so it can never interleave with a migration of it.
 */
export class ConversationStore {
  private readonly now: () => number;
  private readonly reopenLeaseMs: number;
  private readonly reopenWaitMs: number;

  constructor(
    readonly hot: HotStore,
    readonly db: Db,
    opts: ConversationStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.reopenLeaseMs = opts.reopenLeaseMs ?? 10_000;
    this.reopenWaitMs = opts.reopenWaitMs ?? 5_000;
  }

  async append(tenantId: string, input: AppendInput): Promise<AppendResult> {
    const out = await this.write(tenantId, input);
    await this.indexAfter(tenantId, input, out);
    return resultOf(out);
  }

  /**
   * append, then `read` from the header and newest `tail` messages the append script read right
   * after writing (so no third round trip, and nothing can slip in between). The index update
   * must run after the script (its scores come from it) and cannot join it (other hash slots),
   * so it runs alongside `read` instead of before it. Settles only once both have: an index
   * failure wins over whatever `read` did, because a caller that answered (even an error) would
   * let the action be acked, and only its redelivery repairs the index.
   */
  async appendAndRead<T>(tenantId: string, input: AppendInput, tail: number, read: (saved: AppendResult, snapshot: HotTail) => Promise<T>): Promise<T> {
    const out = await this.write(tenantId, input, tail);
    const { snapshot } = out;
    if (!snapshot) throw new Error(`append of ${input.conversationId} answered without the tail it was asked for`);
    const [indexed, value] = await Promise.allSettled([this.indexAfter(tenantId, input, out), (async () => read(resultOf(out), snapshot))()]);
    if (indexed.status === 'rejected') throw indexed.reason;
    if (value.status === 'rejected') throw value.reason;
    return value.value;
  }

  private async write(tenantId: string, input: AppendInput, tail?: number): Promise<Appended> {
    let out = await this.hot.append(tenantId, input, this.now(), { tail });
    if (out.kind === 'missing') out = await this.reopenAndAppend(tenantId, input, tail);
    if (out.kind === 'lease') throw new ConversationBusyError(input.conversationId);
    if (out.kind === 'fenced') throw new ConversationFencedError(input.conversationId);
    if (out.kind !== 'ok' && out.kind !== 'dup') throw new ConversationNotFoundError(input.conversationId);
    return out;
  }

  /** Also on duplicates: a redelivery after a crash between the script and the index write repairs the indexes. */
  private indexAfter(tenantId: string, input: AppendInput, out: Appended): Promise<void> {
    return this.hot.index(tenantId, input.conversationId, out.lastActivityAt, out.dueAt, {
      sessionId: out.createdConversation ? input.sessionId : undefined,
      userId: out.userId,
    });
  }

  private async reopenAndAppend(tenantId: string, input: AppendInput, tail: number | undefined): Promise<AppendOutcome> {
    const id = input.conversationId;
    const token = await this.waitForLease(id);
    let released = false;
    try {
      const archived = await getArchivedConversation(this.db, id);
      if (archived && archived.tenantId !== tenantId) return { kind: 'tenant' as const };
      const now = this.now();
      let record: HotInit['record'];
      if (archived) {
        await this.hot.preloadIds(id, await archivedMessageIds(this.db, id));
        record = archived;
      } else {
        record = {
          agentId: input.agentId ?? null,
          channel: input.channel ?? null,
          sessionId: input.sessionId ?? null,
          userId: input.userId ?? null,
          title: null,
          status: 'open',
          messageCount: 0,
          tokenCount: 0,
          createdAt: now,
          lastActivityAt: now,
          closedAt: null,
        };
      }
      const out = await this.hot.append(tenantId, input, now, { init: { record, leaseToken: token }, tail });
      // The script that created the hot copy also deleted our lease (see APPEND).
      released = (out.kind === 'ok' || out.kind === 'dup') && out.createdConversation;
      return out;
    } finally {
      if (!released) await this.hot.releaseLease(id, token);
    }
  }

  private async waitForLease(conversationId: string): Promise<string> {
    const deadline = this.now() + this.reopenWaitMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const token = await this.hot.acquireLease(conversationId, this.reopenLeaseMs);
      if (token) return token;
      if (this.now() > deadline) throw new ConversationBusyError(conversationId);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Closes it (hot, or archived when it is no longer hot) and makes it due for migration now. */
  async close(tenantId: string, conversationId: string): Promise<void> {
    const res = await this.hot.close(tenantId, conversationId, this.now());
    if (res === 'tenant') throw new ConversationNotFoundError(conversationId);
    if (res === 'missing') {
      if (!(await closeArchived(this.db, tenantId, conversationId, this.now()))) throw new ConversationNotFoundError(conversationId);
      return;
    }
    await this.hot.index(tenantId, conversationId, res.lastActivityAt, res.dueAt, { userId: res.userId });
  }

  /** The conversation's header for this tenant: hot first, else archived; not found otherwise. */
  async find(tenantId: string, conversationId: string): Promise<{ hot: HotMeta | null; record: ConversationRecord }> {
    const hot = await this.hot.getMeta(conversationId);
    if (hot) {
      if (hot.tenantId !== tenantId) throw new ConversationNotFoundError(conversationId, true);
      return { hot, record: hot };
    }
    const archived = await getArchivedConversation(this.db, conversationId);
    if (!archived || archived.tenantId !== tenantId) throw new ConversationNotFoundError(conversationId, archived !== null);
    return { hot: null, record: archived };
  }
}

function resultOf(out: Appended): AppendResult {
  return { seq: out.seq, tokenCount: out.tokenCount, created: out.kind === 'ok', createdConversation: out.createdConversation };
}
