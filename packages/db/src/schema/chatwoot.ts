import { sql } from 'drizzle-orm';
import { boolean, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { tenants } from './tenants.js';

/**
 * One row per Chatwoot inbox the gateway answers: where it lives, how its webhooks are checked and
 * which tenant's agent answers it. The secret columns are write-only through the API: the gateway
 * never returns them, it only says whether they are set.
 */
export const chatwootInboxes = pgTable(
  'chatwoot_inboxes',
  {
    accountId: integer('account_id').notNull(),
    inboxId: integer('inbox_id').notNull(),
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** null: the tenant's default agent. */
    agentId: text('agent_id'),
    baseUrl: text('base_url').notNull(),
    apiToken: text('api_token').notNull(),
    /** HMAC secret of signed deliveries (newer Chatwoot). */
    webhookSecret: text('webhook_secret'),
    /** Shared token in the webhook URL, for installs that do not sign. */
    inboxToken: text('inbox_token'),
    /** Conversation statuses in which the bot answers; Chatwoot's bot-owned state is `pending`. */
    answerStatuses: text('answer_statuses')
      .array()
      .notNull()
      .default(sql`'{pending}'::text[]`),
    handoffNote: text('handoff_note'),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.inboxId] })],
);
