import { conversationLockKey, keyPart } from '@parley/contracts';

/**
 * The Redis layout of hot conversations. Every key of one conversation carries the hash tag
 * `{conv:<id>}`, so the Lua scripts that touch them run on one slot (Redis Cluster). The indexes
 * are global per tenant or per deployment and live on other slots: they are updated right after
 * the conversation's script, idempotently (see hot-store.ts).
 */
export interface ConversationKeys {
  /** hash: tenant, agent, channel, session, user, title, status, counters, times (see codec.ts). */
  meta: string;
  /** list: one JSON message per entry; entry i holds seq base+1+i. */
  messages: string;
  /** hash: messageId → "seq:tokenCount", the idempotency index. */
  ids: string;
  /** list: one compact "createdAt,role,tokens,latency,prompt,completion" line per message, for stats. */
  facts: string;
  /** string: the lease token of whoever copies (migration) or re-creates (save after archiving) it. */
  lease: string;
  /** string: agent-execution's run lock (`runId|token`), read by fenced saves; never written here. */
  runLock: string;
}

export function conversationKeys(prefix: string, conversationId: string): ConversationKeys {
  const base = `${prefix}:{conv:${conversationId}}`;
  return {
    meta: `${base}:meta`,
    messages: `${base}:msgs`,
    ids: `${base}:ids`,
    facts: `${base}:facts`,
    lease: `${base}:lease`,
    runLock: conversationLockKey(prefix, conversationId),
  };
}

/** Sorted set per tenant: member conversation id, score last activity (epoch ms). */
export function tenantIndexKey(prefix: string, tenantId: string): string {
  return `${prefix}:convs:{tenant:${tenantId}}`;
}

/** Sorted set of every hot conversation: score = when it is due for migration (epoch ms). */
export function migrationDueKey(prefix: string): string {
  return `${prefix}:convs:due`;
}

/** string: the newest conversation of a session, for get_history by sessionId. */
export function sessionKey(prefix: string, tenantId: string, sessionId: string): string {
  return `${prefix}:convs:session:{tenant:${tenantId}}:${sessionId}`;
}

/**
 * Sorted set per (tenant, user): the user's own web and REST conversations by last activity (a
 * user's list, resuming their latest). Channel conversations are never in it: their `userId` is a
 * channel contact, which must never be taken for a user of the same id. Same slot as the tenant's index.
 */
export function userIndexKey(prefix: string, tenantId: string, userId: string): string {
  return `${prefix}:convs:{tenant:${tenantId}}:user:${keyPart(userId)}`;
}
