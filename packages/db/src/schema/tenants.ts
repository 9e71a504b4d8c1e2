import { sql } from 'drizzle-orm';
import { boolean, foreignKey, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Agent ids are chosen by operators ("support", "sales"), so they are unique per tenant, not globally. */
export const agents = pgTable(
  'agents',
  {
    tenantId: text('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    /** The current spec (AgentSpec of @parley/contracts), a copy of agent_versions' row `version`. */
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    version: integer('version').notNull().default(1),
    archivedAt: timestamp('archived_at', { withTimezone: true, mode: 'date' }),
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

/** Every spec an agent ever had; rows are never updated, so a run's recorded version can always be read back. */
export const agentVersions = pgTable(
  'agent_versions',
  {
    tenantId: text('tenant_id').notNull(),
    agentId: text('agent_id').notNull(),
    version: integer('version').notNull(),
    spec: jsonb('spec').$type<Record<string, unknown>>().notNull(),
    createdBy: text('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.agentId, t.version] }),
    foreignKey({ columns: [t.tenantId, t.agentId], foreignColumns: [agents.tenantId, agents.id] }).onDelete('cascade'),
  ],
);
