import { z } from 'zod';
import { RunResult } from './agent.js';
import { Id } from './common.js';

/**
 * Outbound delivery of a chatwoot run's outcome to its conversation; handled by any gateway replica.
 * Produced by agent-execution when a run with channel `chatwoot` ends, and by the gateway itself for
 * answers that need no run (attachments, a user asking for a person).
 */
export const ChatwootSend = z.object({
  /** Idempotency: one run's answer is posted once, however often this is retried. */
  runId: Id,
  inboxId: z.number().int(),
  accountId: z.number().int(),
  conversationId: z.number().int(),
  /** Empty when the run produced no text (it failed): the gateway then posts a short apology. */
  content: z.string().max(100_000).default(''),
  /** Hand the conversation to a human after posting. */
  handoff: z.boolean().default(false),
  /** The run failed or was cancelled; `content` is then empty. */
  error: z.object({ code: z.string().max(64), message: z.string().max(2_000) }).optional(),
});
export type ChatwootSend = z.infer<typeof ChatwootSend>;
export const ChatwootSendReply = z.object({
  /** Messages posted by this delivery (0 when a previous delivery already posted them all). */
  posted: z.number().int().nonnegative(),
  handedOff: z.boolean().optional(),
});

/**
 * The signed POST of a REST run's webhook, handled by any gateway replica. Produced by
 * agent-execution when a run with `notify.webhook` ends (with action id `webhook:<runId>`), so the
 * webhook no longer depends on the replica that started the run staying alive.
 */
export const WebhookDeliver = z.object({
  /** Idempotency: one run's webhook is posted once, however often this is redelivered. */
  runId: Id,
  url: z.string().url().max(2048),
  /** Posted as `RunWebhookBody {type: 'run.finished', runId, result}`. */
  result: RunResult,
});
export type WebhookDeliver = z.infer<typeof WebhookDeliver>;
export const WebhookDeliverReply = z.object({
  /** false when an earlier delivery of this run already posted it. */
  posted: z.boolean(),
  /** POSTs made by this delivery (retries included). */
  attempts: z.number().int().nonnegative(),
  /** The receiver's HTTP status of the accepted POST. */
  status: z.number().int().optional(),
});
export type WebhookDeliverReply = z.infer<typeof WebhookDeliverReply>;
