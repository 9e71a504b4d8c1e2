import { z } from 'zod';
import { ErrorBody } from './errors.js';

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
