import { z } from 'zod';
import { ErrorBody } from './errors.js';

/**
 * W3C Trace Context `traceparent` (version 00): `00-<trace id>-<parent span id>-<flags>`, lowercase hex.
 * The pattern bounds it (55 characters); an all-zero trace or span id is invalid by the spec and is
 * ignored by the receiver rather than refused, so a bad header never costs an action.
 */
export const TRACEPARENT_PATTERN = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
export const Traceparent = z.string().length(55).regex(TRACEPARENT_PATTERN);

export const Origin = z.object({ service: z.string(), instance: z.string() });
export type Origin = z.infer<typeof Origin>;

/**
 * The envelope of every domain action on the bus (DESIGN §2). `data` is validated separately
 * against the catalog entry of `type`, so an unknown type can still be dead-lettered with its reason.
 * Times are epoch milliseconds. A conversation is named in `data` (validated with it by the action's
 * schema, and what handlers authorise on), never in the envelope: one place, so the two cannot disagree.
 */
export const DomainAction = z.object({
  id: z.string().min(1).max(128),
  type: z.string().min(1).max(128),
  tenantId: z.string().min(1).max(128),
  sessionId: z.string().max(128).optional(),
  userId: z.string().max(256).optional(),
  /** Roles of the user who caused this action (from their token), for tool permissions. */
  roles: z.array(z.string()).optional(),
  correlationId: z.string().min(1).max(128),
  replyTo: z.string().max(256).optional(),
  traceId: z.string().min(1).max(64),
  /**
   * The sender's span (W3C `traceparent`): the worker's handler span is its child, so one chat turn is
   * one trace across services. When present, `traceId` is its trace id, so logs and traces line up.
   * Optional: entries written before it existed, and senders without tracing, still parse.
   */
  traceparent: Traceparent.optional(),
  origin: Origin,
  createdAt: z.number().int(),
  deadline: z.number().int().optional(),
  attempt: z.number().int().min(1).optional(),
  data: z.unknown(),
});
export type DomainAction = z.infer<typeof DomainAction>;

export const DomainActionReplyOk = z.object({
  correlationId: z.string(),
  actionId: z.string(),
  ok: z.literal(true),
  data: z.unknown(),
});
export const DomainActionReplyError = z.object({
  correlationId: z.string(),
  actionId: z.string(),
  ok: z.literal(false),
  error: ErrorBody,
});
/** What a worker pushes to the caller's callback queue. */
export const DomainActionResponse = z.discriminatedUnion('ok', [DomainActionReplyOk, DomainActionReplyError]);
export type DomainActionResponse = z.infer<typeof DomainActionResponse>;

/** A progress event a handler streams to its caller's callback queue before the reply (e.g. run tokens). */
export const DomainActionEvent = z.object({
  correlationId: z.string(),
  actionId: z.string(),
  event: z.unknown(),
});
export type DomainActionEvent = z.infer<typeof DomainActionEvent>;

/** Callback-queue messages: replies and events share the queue, told apart by `k`. */
export const CallbackMessage = z.discriminatedUnion('k', [
  z.object({ k: z.literal('r'), reply: DomainActionResponse }),
  z.object({ k: z.literal('e'), ev: DomainActionEvent }),
]);
export type CallbackMessage = z.infer<typeof CallbackMessage>;
