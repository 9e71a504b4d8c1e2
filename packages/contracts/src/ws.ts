import { z } from 'zod';
import { Id, Usage } from './common.js';
import { ClientId } from './ids.js';
import { storable, storableJson } from './text.js';
import { HistoryMessage } from './conversation.js';
import { DecideApprovalBody, RunResult, RunStepKind } from './agent.js';

/** WebSocket close codes of the chat protocol (DESIGN §4). */
export const WsClose = {
  shutdown: 1001,
  badToken: 4401,
  forbidden: 4403,
  /** `?agent=` (or the default) names no live agent of the tenant: unknown, another tenant's, or archived. */
  noSuchAgent: 4404,
  idle: 4408,
  tooManyConnections: 4429,
} as const;

// Client → server
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('chat.message'),
    id: ClientId,
    text: storable(z.string().min(1)),
    /** A channel's conversation (an id with `:`) cannot be written from the web: ClientId refuses it. */
    conversationId: ClientId.optional(),
    agent: ClientId.optional(),
  }),
  z.object({ type: z.literal('chat.cancel'), runId: ClientId }),
  z.object({
    type: z.literal('history.get'),
    conversationId: Id,
    before: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(200).optional(),
  }),
  z.object({ type: z.literal('conversation.new'), agent: ClientId.optional() }),
  z.object({ type: z.literal('resume'), runId: ClientId, lastSeq: z.number().int().nonnegative() }),
  /** A decision on the tool call a paused run waits on (its `approval_requested` step); the run's events follow. */
  DecideApprovalBody.extend({ type: z.literal('approval.decide'), runId: ClientId }),
  z.object({ type: z.literal('ping'), t: z.number().optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

// Server → client
export const ServerFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    sessionId: Id,
    user: z.object({ id: z.string(), tenantId: z.string(), roles: z.array(z.string()) }),
    conversationId: Id,
    agent: z.object({ id: z.string(), name: z.string() }),
    /**
     * true: the socket continues a conversation that already has messages (the one asked for, or the
     * user's latest open one with this agent); the `history` frame that follows holds them.
     * Optional only so a client still parses the welcome of an older gateway replica.
     */
    resumed: z.boolean().optional(),
    /** The agent's greeting, on a new conversation only (an agent without one sends none). */
    greeting: z.string().optional(),
    limits: z.object({ maxFrameBytes: z.number().int(), maxTextChars: z.number().int(), messagesPerMinute: z.number().int() }),
  }),
  z.object({
    type: z.literal('history'),
    conversationId: Id,
    messages: z.array(HistoryMessage),
    hasMore: z.boolean(),
    /** On the answer to `conversation.new`: the greeting of the agent the new conversation is with. */
    greeting: z.string().optional(),
  }),
  z.object({ type: z.literal('chat.accepted'), id: Id, runId: Id, conversationId: Id }),
  z.object({ type: z.literal('agent.token'), runId: Id, seq: z.number().int(), delta: z.string() }),
  z.object({
    type: z.literal('agent.step'),
    runId: Id,
    seq: z.number().int(),
    kind: RunStepKind,
    name: z.string(),
    data: z.unknown().optional(),
    progress: z.number().optional(),
  }),
  z.object({ type: z.literal('agent.message'), runId: Id, seq: z.number().int(), messageId: z.string(), text: z.string(), usage: Usage }),
  z.object({
    type: z.literal('agent.error'),
    runId: Id,
    seq: z.number().int().optional(),
    code: z.string(),
    message: z.string(),
    /** On `internal`: the reference the failure was logged under (ErrorBody.ref). */
    errorRef: z.string().max(64).optional(),
  }),
  z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string(),
    retryAfterMs: z.number().int().optional(),
    /** What the error answers: the chat.message id, else the client frame's type; absent for undecodable frames. */
    ref: z.string().max(128).optional(),
    /** On `internal`: the reference the failure was logged under (ErrorBody.ref); `ref` is taken by the frame answered. */
    errorRef: z.string().max(64).optional(),
    /** The id of the socket's upgrade request (its x-request-id): the gateway's log lines of this socket carry it. */
    requestId: z.string().max(64).optional(),
  }),
  z.object({ type: z.literal('pong'), t: z.number().optional() }),
  // Hand-off to a person (contracts/handoff.ts): these reach the user's socket on any replica.
  /** The user's message was saved and goes to a person (the conversation waits for or is held by one): no run. */
  z.object({ type: z.literal('chat.delivered'), id: Id, conversationId: Id, messageId: Id }),
  z.object({ type: z.literal('agent.joined'), conversationId: Id, name: z.string() }),
  z.object({ type: z.literal('agent.left'), conversationId: Id, name: z.string() }),
  z.object({ type: z.literal('human.message'), conversationId: Id, messageId: Id, name: z.string(), text: z.string(), createdAt: z.string() }),
  z.object({
    type: z.literal('system'),
    event: z.string(),
    message: z.string().optional(),
    /** On `shutdown`: runs still streaming to this socket and the last seq it got, to `resume` on another replica. */
    runs: z.array(z.object({ runId: Id, lastSeq: z.number().int().nonnegative() })).optional(),
  }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

// REST API bodies of the gateway (`/api/v1`), beside the WS frames: both are the edge's public protocol.
export const StartRunRequest = z.object({
  flow: storable(z.string().min(1).max(64)).optional(),
  input: storableJson(z.record(z.string(), z.unknown())),
  agentId: ClientId.optional(),
  /** A channel's conversation (an id with `:`) cannot be written through REST: ClientId refuses it. */
  conversationId: ClientId.optional(),
  /** Gets a signed POST with the result when the run ends (allow-listed hosts only). */
  webhook: storable(z.string().url().max(2048)).optional(),
});
export type StartRunRequest = z.infer<typeof StartRunRequest>;
export const StartRunResponse = z.object({ runId: Id, status: z.literal('PENDING'), eventsUrl: z.string() });
export type StartRunResponse = z.infer<typeof StartRunResponse>;

/** Body of the webhook POST a REST run sends when it ends. */
export const RunWebhookBody = z.object({
  type: z.literal('run.finished'),
  runId: Id,
  result: RunResult,
});
export type RunWebhookBody = z.infer<typeof RunWebhookBody>;
