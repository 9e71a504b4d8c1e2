import { z } from 'zod';
import { Id } from './common.js';

export const MigrateConversation = z.object({ conversationId: Id });
export const MigrateConversationReply = z.object({
  conversationId: Id,
  migrated: z.boolean(),
  messages: z.number().int().nonnegative(),
  /** Why nothing was migrated: already archived, leased by another replica, still active… */
  reason: z.string().optional(),
});
export const LoopState = z.object({ running: z.boolean() });
export const MigrationStats = z.object({
  migratedConversations: z.number().int().nonnegative(),
  migratedMessages: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  /** How long the oldest due conversation has been waiting, 0 when none. */
  oldestDueAgeMs: z.number().int().nonnegative(),
});
export type MigrationStats = z.infer<typeof MigrationStats>;
