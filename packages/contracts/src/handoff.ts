import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { HandoffMark, HumanAgent, MessageRole } from './conversation.js';
import { storable } from './text.js';

/**
 * Who answers a web conversation: the bot (the default, no record), nobody yet (`waiting` for a
 * human: the `handoff_to_human` tool or an operator asked for one), or a human operator (`human`,
 * held by `holder`). While it is not the bot's, a user message starts no run: it is saved and shown
 * to the operators live.
 */
export const HandlingState = z.enum(['bot', 'waiting', 'human']);
export type HandlingState = z.infer<typeof HandlingState>;

/** A conversation in the operators' queue: waiting, or held by someone (who). */
export const Handoff = z.object({
  conversationId: Id,
  state: HandlingState,
  /** The conversation's user (the person waiting). */
  userId: z.string().max(256).optional(),
  holder: HumanAgent.optional(),
  reason: z.string().max(1_000).optional(),
  /** When the conversation entered its current state. */
  since: IsoDate,
});
export type Handoff = z.infer<typeof Handoff>;

export const HandoffQueue = z.object({
  items: z.array(Handoff),
  /** How many of the items wait for a human (the console's badge). */
  waiting: z.number().int().nonnegative(),
});
export type HandoffQueue = z.infer<typeof HandoffQueue>;

/** `POST /api/v1/conversations/:id/messages`: what an operator holding the conversation writes. */
export const OperatorMessageRequest = z.object({
  /** The client's id of the message (a retry with the same id stores one message). */
  id: Id,
  text: storable(z.string().trim().min(1).max(10_000)),
});
export type OperatorMessageRequest = z.infer<typeof OperatorMessageRequest>;

/** A message of a handed-off conversation, as the feed carries it to the user's socket and the operators. */
export const HandoffMessage = z.object({
  messageId: Id,
  role: MessageRole,
  content: z.string(),
  handoff: HandoffMark.optional(),
  createdAt: IsoDate,
});
export type HandoffMessage = z.infer<typeof HandoffMessage>;

/**
 * What the gateway replicas tell each other about a tenant's handed-off conversations (Redis pub/sub,
 * `handoffFeedChannel`): a conversation's new state, or a new message in it. A replica holding the
 * user's socket or an operator's console stream forwards it; nothing is lost if none listens, since
 * the state and the messages are stored before they are published.
 */
export const HandoffFeedEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('state'), handoff: Handoff }),
  z.object({ type: z.literal('message'), conversationId: Id, message: HandoffMessage }),
]);
export type HandoffFeedEvent = z.infer<typeof HandoffFeedEvent>;

/** A conversation's handling record (a hash; absent = the bot's). In the conversation's hash slot. */
export const handoffKey = (prefix: string, conversationId: string) => `${prefix}:handoff:{conv:${conversationId}}`;
/** The tenant's queue: conversation ids not handled by the bot, scored by when they changed hands. */
export const handoffQueueKey = (prefix: string, tenantId: string) => `${prefix}:handoffs:{tenant:${tenantId}}`;
/** The pub/sub channel of a tenant's HandoffFeedEvents. */
export const handoffFeedChannel = (prefix: string, tenantId: string) => `${prefix}:handoff-feed:${tenantId}`;

/**
 * `channel.web.handoff`: a web run's `handoff_to_human` tool asked for a person. Produced by
 * agent-execution when such a run ends; any gateway replica puts the conversation in the queue.
 */
export const WebHandoff = z.object({
  runId: Id,
  conversationId: Id,
  userId: z.string().max(256).optional(),
  reason: z.string().max(1_000).optional(),
});
export type WebHandoff = z.infer<typeof WebHandoff>;
export const WebHandoffReply = z.object({ state: HandlingState });
export type WebHandoffReply = z.infer<typeof WebHandoffReply>;
