import { z } from 'zod';

/**
 * Ids a client chooses (web and REST: message ids, conversation ids, run ids, agent names). Only
 * letters, digits, `.`, `_` and `-`: no `:` (the separator of Redis keys and of channel
 * namespaces), no `{`/`}` (Redis Cluster hash tags), no control characters. So a client can never
 * spell an id of a channel namespace, nor a key part that collides with another user's.
 */
export const ClientId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"');
export type ClientId = z.infer<typeof ClientId>;

/**
 * Conversations of a channel (Chatwoot today) live in a namespace a client cannot spell: their ids
 * contain `:`, which ClientId refuses. Their owner is the channel contact, never a web user.
 */
export function isChannelConversationId(conversationId: string): boolean {
  return conversationId.includes(':');
}

/**
 * The message id of an agent's greeting in a conversation: one per conversation (message ids are
 * unique across conversations), so saving it again stores nothing twice. A client cannot spell it
 * (ClientId refuses `:`), so no message of theirs is ever taken for the greeting.
 */
export function greetingMessageId(conversationId: string): string {
  return `${conversationId}:greeting`;
}

/** Where a Chatwoot message lives. `(accountId, inboxId)` is the primary key of an inbox binding, so it names one tenant. */
export interface ChatwootInboxRef {
  accountId: number;
  inboxId: number;
}

/**
 * The Parley conversation of a Chatwoot conversation: namespaced by the inbox binding (and so by
 * its tenant). Two inboxes, even of the same Chatwoot account, never share a conversation.
 */
export function chatwootConversationId(a: ChatwootInboxRef & { conversationId: number }): string {
  return `cw:${a.accountId}:${a.inboxId}:${a.conversationId}`;
}

/** The id under which a channel contact owns its conversations (the `userId` of their actions). */
export function chatwootContactId(a: ChatwootInboxRef & { contactId: number }): string {
  return `chatwoot:contact:${a.accountId}:${a.inboxId}:${a.contactId}`;
}

/**
 * One part of a Redis key built from input (a tenant id, a user id from a token, a message id):
 * every character outside `[A-Za-z0-9._-]` becomes `%uXXXX`. Injective, so `v:k` + `m` and `v` +
 * `k:m` give different keys, and no part can close a hash tag or add a separator.
 */
export function keyPart(part: string): string {
  return part.replace(/[^A-Za-z0-9._-]/g, (c) => `%u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
