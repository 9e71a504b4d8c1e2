import { z } from 'zod';
import { Id } from './common.js';

/** Outbound delivery of a run's answer to a Chatwoot conversation; handled by any gateway replica. */
export const ChatwootSend = z.object({
  /** Idempotency: one run's answer is posted once, however often this is retried. */
  runId: Id,
  inboxId: z.number().int(),
  accountId: z.number().int(),
  conversationId: z.number().int(),
  content: z.string().min(1).max(100_000),
  /** Hand the conversation to a human after posting. */
  handoff: z.boolean().default(false),
});
export const ChatwootSendReply = z.object({ posted: z.number().int().nonnegative() });
