/**
 * Chatwoot's side of the WhatsApp channel: the webhook bodies it sends (DESIGN §5) and the per-inbox
 * configuration the gateway keeps. Webhook schemas are loose on purpose: Chatwoot adds fields over
 * time and an unknown one must never turn a delivery into a 400; only the fields the gateway acts on
 * are required.
 */
import { z } from 'zod';
import { Id } from './common.js';
import { storable } from './text.js';

const Num = z.number().int();
/** Top-level `message_type` is a string; inside `conversation.messages[]` it is Chatwoot's enum integer. */
const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;
export const ChatwootMessageType = z.union([z.string(), Num]).transform((v) => (typeof v === 'number' ? (MESSAGE_TYPES[v] ?? String(v)) : v));

export const ChatwootSender = z.looseObject({ id: Num.optional(), name: z.string().nullish(), type: z.string().optional() });
export const ChatwootAttachment = z.looseObject({ id: Num.optional(), file_type: z.string().optional(), data_url: z.string().nullish() });

export const ChatwootConversationRef = z.looseObject({
  /** The display id, the one used in API paths. */
  id: Num,
  status: z.string(),
  inbox_id: Num.optional(),
  channel: z.string().optional(),
  can_reply: z.boolean().optional(),
});

/** `message_created` / `message_updated`: the body is the message. */
export const ChatwootMessageEvent = z.looseObject({
  event: z.enum(['message_created', 'message_updated']),
  id: Num,
  /**
   * Not refused here when PostgreSQL could not store it: a 400 to Chatwoot would leave the contact
   * unanswered, so the channel answers such a message politely instead (channels/chatwoot).
   */
  content: z.string().nullish(),
  content_type: z.string().nullish(),
  content_attributes: z.record(z.string(), z.unknown()).nullish(),
  message_type: ChatwootMessageType,
  private: z.boolean().default(false),
  created_at: z.union([z.string(), z.number()]).optional(),
  source_id: z.string().nullish(),
  sender: ChatwootSender.nullish(),
  inbox: z.looseObject({ id: Num, name: z.string().nullish() }),
  account: z.looseObject({ id: Num, name: z.string().nullish() }),
  conversation: ChatwootConversationRef,
  attachments: z.array(ChatwootAttachment).optional(),
});
export type ChatwootMessageEvent = z.infer<typeof ChatwootMessageEvent>;

/** `conversation_*` events: the body is the conversation. */
export const ChatwootConversationEvent = z.looseObject({
  event: z.string().startsWith('conversation_'),
  id: Num,
  status: z.string(),
  inbox_id: Num.optional(),
  account_id: Num.optional(),
  account: z.looseObject({ id: Num }).optional(),
});
export type ChatwootConversationEvent = z.infer<typeof ChatwootConversationEvent>;

/** Only `event` is read first; the rest is parsed by the schema of that event. */
export const ChatwootWebhookHead = z.looseObject({ event: z.string().min(1) });

/** Where a run's answer goes back to; carried in `agent.run` input as `chatwoot` and echoed in `channel.chatwoot.send`. */
export const ChatwootAddress = z.object({
  accountId: Num,
  inboxId: Num,
  conversationId: Num,
  /** The Chatwoot message that started the run. */
  messageId: Num.optional(),
});
export type ChatwootAddress = z.infer<typeof ChatwootAddress>;

export const ChatwootStatus = z.enum(['open', 'pending', 'resolved', 'snoozed']);

/** PUT body of one inbox. Secrets: omitted keeps the stored value, `null` clears it; never returned. */
export const ChatwootInboxInput = z.object({
  accountId: Num.positive(),
  inboxId: Num.positive(),
  agentId: Id.nullable().optional(),
  baseUrl: storable(z.url({ protocol: /^https?$/ }).max(2_000)),
  apiToken: storable(z.string().min(8).max(512)).optional(),
  webhookSecret: storable(z.string().min(16).max(512)).nullable().optional(),
  inboxToken: storable(z.string().min(24).max(512)).nullable().optional(),
  answerStatuses: z.array(ChatwootStatus).min(1).max(4).optional(),
  handoffNote: storable(z.string().min(1).max(1_000)).nullable().optional(),
  enabled: z.boolean().optional(),
});
export type ChatwootInboxInput = z.infer<typeof ChatwootInboxInput>;
export const ChatwootInboxesPut = z.union([ChatwootInboxInput, z.array(ChatwootInboxInput).min(1).max(100)]);

/** What GET answers: the configuration with secrets reduced to whether they are set. */
export const ChatwootInboxView = z.object({
  accountId: Num,
  inboxId: Num,
  tenantId: Id,
  agentId: Id.nullable(),
  baseUrl: z.string(),
  answerStatuses: z.array(z.string()),
  handoffNote: z.string().nullable(),
  enabled: z.boolean(),
  apiTokenSet: z.boolean(),
  webhookSecretSet: z.boolean(),
  inboxTokenSet: z.boolean(),
  source: z.enum(['database', 'env']),
  /**
   * Present and true when the stored secrets cannot be decrypted with the gateway's keys (SECRETS_KEY
   * missing or changed): the inbox is not answered until its secrets are PUT again or the key restored.
   */
  secretsUnreadable: z.boolean().optional(),
});
export type ChatwootInboxView = z.infer<typeof ChatwootInboxView>;
