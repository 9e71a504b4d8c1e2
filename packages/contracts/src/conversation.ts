import { z } from 'zod';
import { Channel, Id, IsoDate, ToolCall, Usage } from './common.js';
import { storable, storableJson } from './text.js';

/** Longest message content the platform stores (characters). */
export const MAX_MESSAGE_CHARS = 100_000;

/** Roles a model sees. */
export const ModelRole = z.enum(['system', 'user', 'assistant', 'tool']);
export type ModelRole = z.infer<typeof ModelRole>;

/**
 * Roles of a stored message: the model's; `status`, the trace of a turn that ended without an
 * answer (failed, cancelled, timed out) so a reader of the transcript sees why; `human_agent`, a
 * message an operator wrote while holding the conversation (the model later reads it as the
 * assistant's, so the bot knows what was promised); `handoff`, a marker of the conversation changing
 * hands (waiting for a human, an operator joined or left). Status and handoff entries are for people
 * only: the model's context never includes them.
 */
export const MessageRole = z.enum([...ModelRole.options, 'status', 'human_agent', 'handoff']);
export type MessageRole = z.infer<typeof MessageRole>;

/** How a turn without an answer ended. */
export const TurnOutcome = z.enum(['failed', 'cancelled', 'timed_out']);
export type TurnOutcome = z.infer<typeof TurnOutcome>;

/** What a `status` entry says: the outcome, the run's error code, and the run. */
export const TurnStatus = z.object({
  outcome: TurnOutcome,
  code: storable(z.string().min(1).max(64)),
  runId: Id.optional(),
});
export type TurnStatus = z.infer<typeof TurnStatus>;

/** Where a stored status entry keeps its TurnStatus inside the message's metadata. */
export const TURN_STATUS_KEY = 'turnStatus';

/** A person of the tenant's staff as the user sees them: an id for the rule, a name to show. */
export const HumanAgent = z.object({ id: storable(z.string().min(1).max(128)), name: storable(z.string().min(1).max(128)) });
export type HumanAgent = z.infer<typeof HumanAgent>;

/** What a `handoff` entry marks: the conversation waits for a human, one joined, or one left (handed back to the bot). */
export const HandoffEvent = z.enum(['waiting', 'joined', 'left']);
export type HandoffEvent = z.infer<typeof HandoffEvent>;

/** Role `human_agent`: who wrote it; role `handoff`: what happened and who (absent for `waiting`). */
export const HandoffMark = z.object({ event: HandoffEvent.optional(), agent: HumanAgent.optional() });
export type HandoffMark = z.infer<typeof HandoffMark>;

/** Where a stored human_agent or handoff entry keeps its HandoffMark inside the message's metadata. */
export const HANDOFF_MARK_KEY = 'handoff';

/**
 * The conversation's run lock: a Redis string holding `runId|token`, taken and released by
 * agent-execution (one run at a time per conversation). It shares the conversation's hash slot, so the
 * conversation service checks a save's `fence` against it in the same script as the write.
 */
export const conversationLockKey = (prefix: string, conversationId: string) => `${prefix}:agent:{conv:${conversationId}}:lock`;

export const SaveMessage = z.object({
  /** Idempotency key: saving the same message id twice stores one row. */
  messageId: Id,
  conversationId: Id,
  agentId: Id.optional(),
  channel: Channel.optional(),
  role: MessageRole,
  content: storable(z.string().max(MAX_MESSAGE_CHARS)),
  toolCalls: z.array(ToolCall).max(64).optional(),
  /** For role `tool`: the id of the call this message answers. */
  toolCallId: storable(z.string().max(128)).optional(),
  model: storable(z.string().max(128)).optional(),
  latencyMs: z.number().int().nonnegative().optional(),
  usage: Usage.optional(),
  runId: Id.optional(),
  metadata: storableJson(z.record(z.string(), z.unknown())).optional(),
  /** For role `status` (required there): how the turn ended. */
  status: TurnStatus.optional(),
  /**
   * The conversation lock's holder (`runId|token`) this save requires: while another holder has the
   * lock, or none, nothing is stored and the save answers `conflict`. Checked in the same step as the
   * write, so a worker that stalled past its lease cannot write after another run took over. A message
   * id already stored is still answered as a duplicate.
   */
  fence: storable(z.string().min(1).max(256)).optional(),
});
export type SaveMessage = z.infer<typeof SaveMessage>;

export const SaveMessageReply = z.object({
  messageId: Id,
  conversationId: Id,
  seq: z.number().int().positive(),
  tokenCount: z.number().int().nonnegative(),
  /** false when this message id was already stored (a retry or redelivery). */
  created: z.boolean(),
});
export type SaveMessageReply = z.infer<typeof SaveMessageReply>;

export const ContextMessage = z.object({
  role: ModelRole,
  content: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  toolCallId: z.string().optional(),
});
export type ContextMessage = z.infer<typeof ContextMessage>;

export const GetContext = z.object({
  conversationId: Id,
  /** The window's budget for turns: the caller subtracts whatever it puts beside them (its system prompt). */
  maxTokens: z.number().int().positive().max(2_000_000),
});
export type GetContext = z.infer<typeof GetContext>;

export const GetContextReply = z.object({
  conversationId: Id,
  /** The newest turns that fit, oldest first. No system prompt: that is agent-execution's (its agent's prompt). */
  messages: z.array(ContextMessage),
  tokenCount: z.number().int().nonnegative(),
  truncated: z.boolean(),
});
export type GetContextReply = z.infer<typeof GetContextReply>;

/**
 * A run's first step in one round trip: save the user's message (idempotent by messageId, creating
 * the conversation on its first message), then answer the context window that now ends with it.
 */
export const BeginTurn = SaveMessage.extend({
  context: GetContext.omit({ conversationId: true }),
});
export type BeginTurn = z.infer<typeof BeginTurn>;

export const BeginTurnReply = z.object({
  saved: SaveMessageReply,
  context: GetContextReply,
});
export type BeginTurnReply = z.infer<typeof BeginTurnReply>;

export const HistoryMessage = z.object({
  messageId: Id,
  seq: z.number().int().positive(),
  role: MessageRole,
  content: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  toolCallId: z.string().optional(),
  tokenCount: z.number().int().nonnegative(),
  model: z.string().optional(),
  latencyMs: z.number().int().nonnegative().optional(),
  runId: z.string().optional(),
  /** Role `status`: how the turn ended (the message is `content`). */
  status: TurnStatus.optional(),
  /** Roles `human_agent` and `handoff`: who wrote it or joined/left, and what happened. */
  handoff: HandoffMark.optional(),
  createdAt: IsoDate,
});
export type HistoryMessage = z.infer<typeof HistoryMessage>;

export const GetHistory = z
  .object({
    conversationId: Id.optional(),
    sessionId: Id.optional(),
    limit: z.number().int().min(1).max(200).default(50),
    /** Return messages with seq strictly below this (paging backwards). */
    before: z.number().int().positive().optional(),
  })
  .refine((v) => v.conversationId !== undefined || v.sessionId !== undefined, {
    message: 'conversationId or sessionId is required',
    path: ['conversationId'],
  });
export type GetHistory = z.infer<typeof GetHistory>;

export const GetHistoryReply = z.object({
  /** null: no such conversation for this tenant (unknown id, another tenant's, a session without one); messages empty. */
  conversationId: Id.nullable(),
  /** Oldest first. */
  messages: z.array(HistoryMessage),
  hasMore: z.boolean(),
});
export type GetHistoryReply = z.infer<typeof GetHistoryReply>;

export const SessionClosed = z.object({ conversationId: Id, reason: storable(z.string().max(256)).optional() });
export type SessionClosed = z.infer<typeof SessionClosed>;
export const SessionClosedReply = z.object({ conversationId: Id, status: z.literal('closed') });

/** Longest search text (characters); a search is a few words, not a document. */
export const MAX_SEARCH_CHARS = 200;

/**
 * Search text as typed: websearch syntax ("quoted phrase", or, -word) is read by PostgreSQL's
 * websearch_to_tsquery, which never fails on any input, so only size and control characters are refused.
 */
export const SearchText = z
  .string()
  .trim()
  .min(1, 'is empty; leave q out to list without searching')
  .max(MAX_SEARCH_CHARS, `is longer than ${MAX_SEARCH_CHARS} characters`)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: 'contains a control character' })
  .pipe(storable(z.string()));
export type SearchText = z.infer<typeof SearchText>;

/** A piece of a snippet: `hit` marks the words that matched, to highlight; the text is plain, never markup. */
export const SnippetPart = z.object({ text: z.string(), hit: z.boolean() });
export type SnippetPart = z.infer<typeof SnippetPart>;

export const SearchMatch = z.object({
  messageId: Id,
  seq: z.number().int().positive(),
  role: MessageRole,
  createdAt: IsoDate,
  /** A short excerpt of the message around the matched words, in order. */
  snippet: z.array(SnippetPart),
});
export type SearchMatch = z.infer<typeof SearchMatch>;

export const ConversationStatus = z.enum(['open', 'closed']);
export type ConversationStatus = z.infer<typeof ConversationStatus>;

export const ConversationSummary = z.object({
  conversationId: Id,
  agentId: z.string().nullable(),
  channel: Channel.nullable(),
  sessionId: z.string().nullable(),
  userId: z.string().nullable(),
  title: z.string().nullable(),
  status: ConversationStatus,
  /** true once the conversation lives in the PostgreSQL archive rather than hot in Redis. */
  archived: z.boolean(),
  messageCount: z.number().int().nonnegative(),
  tokenCount: z.number().int().nonnegative(),
  createdAt: IsoDate,
  lastActivityAt: IsoDate,
  /** Present in search results (`q`): the conversation's newest message that matches. */
  match: SearchMatch.optional(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const ListConversations = z.object({
  /** Full-text search over the conversations' user and assistant messages (hot and archived); same order and cursor as the list. */
  q: SearchText.optional(),
  status: ConversationStatus.optional(),
  /**
   * Only the conversations this user owns through the web or REST (`/me/conversations`, resuming a
   * socket). A channel's conversations are never among them: their `userId` is a channel contact.
   */
  userId: Id.optional(),
  agentId: Id.optional(),
  channel: Channel.optional(),
  cursor: storable(z.string().max(512)).optional(),
  limit: z.number().int().min(1).max(100).default(20),
});
export type ListConversations = z.infer<typeof ListConversations>;
export const ListConversationsReply = z.object({
  items: z.array(ConversationSummary),
  nextCursor: z.string().nullable(),
});
export type ListConversationsReply = z.infer<typeof ListConversationsReply>;

export const GetConversation = z.object({ conversationId: Id });
export type GetConversation = z.infer<typeof GetConversation>;

export const ConversationStats = z.object({
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  agentId: Id.optional(),
});
export type ConversationStats = z.infer<typeof ConversationStats>;

const Counts = z.object({ conversations: z.number().int(), messages: z.number().int() });
export const ConversationStatsReply = z.object({
  conversations: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  byChannel: z.record(z.string(), Counts),
  byAgent: z.record(z.string(), Counts),
  /** Per day (UTC, YYYY-MM-DD), for charts. */
  byDay: z.array(z.object({ day: z.string(), conversations: z.number().int(), messages: z.number().int() })),
  assistantLatencyMs: z.object({ avg: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable() }),
  tokens: z.object({ total: z.number().int(), prompt: z.number().int(), completion: z.number().int() }),
});
export type ConversationStatsReply = z.infer<typeof ConversationStatsReply>;
