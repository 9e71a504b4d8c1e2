import { sql } from 'drizzle-orm';
import { boolean, doublePrecision, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const doubleTextingPolicies = ['enqueue', 'reject', 'interrupt'] as const;
export type DoubleTextingPolicy = (typeof doubleTextingPolicies)[number];

/** Agent ids are chosen by operators ("support", "sales"), so they are unique per tenant, not globally. */
export const agents = pgTable(
  'agents',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    name: text('name').notNull(),
    systemPrompt: text('system_prompt').notNull().default(''),
    model: text('model').notNull(),
    temperature: doublePrecision('temperature').notNull().default(0.7),
    tools: text('tools')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    flow: text('flow').notNull().default('chat'),
    doubleTexting: text('double_texting', { enum: doubleTextingPolicies }).notNull().default('enqueue'),
    maxRunMs: integer('max_run_ms').notNull().default(120_000),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    // At most one default agent per tenant: the one a run without agentId uses.
    uniqueIndex('agents_one_default_per_tenant')
      .on(t.tenantId)
      .where(sql`${t.isDefault}`),
  ],
);
