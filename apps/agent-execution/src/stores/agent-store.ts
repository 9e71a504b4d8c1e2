import { and, desc, eq, sql } from 'drizzle-orm';
import { agents, agentVersions, tenants, type Db } from '@parley/db';
import { AgentSpec, type AgentConfig, type AgentVersion, type UpdateAgent } from '@parley/contracts';

export const DEFAULT_AGENT_ID = 'default';
export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant for this business. Answer briefly and truthfully. Use search_knowledge for facts about ' +
  'the business, current_time for dates and times, and handoff_to_human when the user asks for a person or you cannot help.';

export interface AgentDefaults {
  model: string;
  maxRunMs: number;
  tools: readonly string[];
}

/** A version stored before a field existed reads with that field's default. */
const StoredSpec = AgentSpec.extend({
  greeting: AgentSpec.shape.greeting.default(''),
  mcpServers: AgentSpec.shape.mcpServers.default([]),
  httpTools: AgentSpec.shape.httpTools.default([]),
});

type AgentRow = typeof agents.$inferSelect;

function toConfig(row: AgentRow): AgentConfig {
  return {
    ...StoredSpec.parse(row.spec),
    agentId: row.id,
    version: row.version,
    isDefault: row.isDefault,
    archived: row.archivedAt !== null,
    updatedAt: row.updatedAt.toISOString(),
  };
}

function definedFields<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type CreateOutcome = { created: AgentConfig } | { exists: true };

/**
 * Agents per tenant, in PostgreSQL: `agents` holds each agent's current spec and version, `agent_versions` every spec
 * it ever had (written in the same transaction, so the two never disagree). A tenant seen for the first time gets a
 * default agent, so a fresh install answers at once.
 */
export class AgentStore {
  /**
   * Every run reads its agent; a short in-process cache saves that query on the hot path. An edit made
   * through another replica is seen here within CACHE_MS (edits through this one at once).
   */
  private readonly cache = new Map<string, { at: number; agent: AgentConfig }>();
  static readonly CACHE_MS = 2_000;

  constructor(
    private readonly db: Db,
    private readonly defaults: AgentDefaults,
  ) {}

  private cached(tenantId: string, agentId: string | undefined): AgentConfig | null {
    const key = `${tenantId}\u0000${agentId ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < AgentStore.CACHE_MS) return hit.agent;
    return null;
  }

  private remember(tenantId: string, agentId: string | undefined, agent: AgentConfig): AgentConfig {
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(`${tenantId}\u0000${agentId ?? ''}`, { at: Date.now(), agent });
    return agent;
  }

  private forget(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}\u0000`)) this.cache.delete(key);
  }

  /** Every agent of the tenant, archived ones included (they say so). */
  async list(tenantId: string): Promise<AgentConfig[]> {
    await this.ensureDefault(tenantId);
    const rows = await this.db.select().from(agents).where(eq(agents.tenantId, tenantId)).orderBy(agents.id);
    return rows.map(toConfig);
  }

  /** The named agent, or the tenant's default one when `agentId` is absent; null when the named one does not exist. */
  async get(tenantId: string, agentId: string | undefined): Promise<AgentConfig | null> {
    const hit = this.cached(tenantId, agentId);
    if (hit) return hit;
    const found = await this.load(tenantId, agentId);
    return found ? this.remember(tenantId, agentId, found) : null;
  }

  private async load(tenantId: string, agentId: string | undefined): Promise<AgentConfig | null> {
    const where =
      agentId === undefined ? and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true)) : and(eq(agents.tenantId, tenantId), eq(agents.id, agentId));
    const [row] = await this.db.select().from(agents).where(where).limit(1);
    if (row) return toConfig(row);
    if (agentId !== undefined && agentId !== DEFAULT_AGENT_ID) return null;
    return this.ensureDefault(tenantId);
  }

  /** A new agent at version 1; `exists` when the tenant already has one by that id (archived ones included). */
  async create(tenantId: string, agentId: string, spec: AgentSpec, createdBy: string | null): Promise<CreateOutcome> {
    await this.ensureDefault(tenantId);
    const outcome = await this.db.transaction(async (tx) => {
      const [row] = await tx.insert(agents).values({ tenantId, id: agentId, spec, version: 1 }).onConflictDoNothing().returning();
      if (!row) return { exists: true } as const;
      await tx.insert(agentVersions).values({ tenantId, agentId, version: 1, spec, createdBy });
      return { created: toConfig(row) };
    });
    this.forget(tenantId);
    return outcome;
  }

  /** Applies the fields given as a new version; null when the agent does not exist. */
  async update(tenantId: string, patch: UpdateAgent, createdBy: string | null = null): Promise<AgentConfig | null> {
    await this.ensureDefault(tenantId);
    const { agentId, ...fields } = patch;
    return this.newVersion(tenantId, agentId, createdBy, (current) => ({ ...current, ...definedFields(fields) }));
  }

  /** Makes an earlier version's spec the current one, as a new version (history only grows); null when either is unknown. */
  async rollback(tenantId: string, agentId: string, version: number, createdBy: string | null): Promise<AgentConfig | null> {
    const [old] = await this.db
      .select({ spec: agentVersions.spec })
      .from(agentVersions)
      .where(and(eq(agentVersions.tenantId, tenantId), eq(agentVersions.agentId, agentId), eq(agentVersions.version, version)));
    if (!old) return null;
    const spec = StoredSpec.parse(old.spec);
    return this.newVersion(tenantId, agentId, createdBy, () => spec);
  }

  private async newVersion(tenantId: string, agentId: string, createdBy: string | null, next: (current: AgentSpec) => AgentSpec): Promise<AgentConfig | null> {
    const updated = await this.db.transaction(async (tx) => {
      // FOR UPDATE: two concurrent edits get consecutive versions instead of both claiming current + 1.
      const [current] = await tx
        .select()
        .from(agents)
        .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
        .for('update');
      if (!current) return null;
      const spec = next(StoredSpec.parse(current.spec));
      const version = current.version + 1;
      await tx.insert(agentVersions).values({ tenantId, agentId, version, spec, createdBy });
      const [row] = await tx
        .update(agents)
        .set({ spec, version, updatedAt: new Date() })
        .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
        .returning();
      return row ? toConfig(row) : null;
    });
    this.forget(tenantId);
    return updated;
  }

  /** Newest first. Empty when the agent does not exist. */
  async versions(tenantId: string, agentId: string): Promise<AgentVersion[]> {
    const rows = await this.db
      .select()
      .from(agentVersions)
      .where(and(eq(agentVersions.tenantId, tenantId), eq(agentVersions.agentId, agentId)))
      .orderBy(desc(agentVersions.version));
    return rows.map((r) => ({
      agentId: r.agentId,
      version: r.version,
      spec: StoredSpec.parse(r.spec),
      createdBy: r.createdBy,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  /** Archives (or restores) an agent; null when it does not exist. The caller refuses to archive the default agent. */
  async setArchived(tenantId: string, agentId: string, archived: boolean): Promise<AgentConfig | null> {
    const [row] = await this.db
      .update(agents)
      .set({ archivedAt: archived ? sql`coalesce(${agents.archivedAt}, now())` : null, updatedAt: new Date() })
      .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
      .returning();
    this.forget(tenantId);
    return row ? toConfig(row) : null;
  }

  /**
   * Makes the agent the tenant's default; null when it does not exist. One transaction clears the old default first,
   * as the partial unique index allows one default per tenant at any moment.
   */
  async makeDefault(tenantId: string, agentId: string): Promise<AgentConfig | null> {
    await this.ensureDefault(tenantId);
    const updated = await this.db.transaction(async (tx) => {
      const [target] = await tx
        .select()
        .from(agents)
        .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
        .for('update');
      if (!target) return null;
      if (target.isDefault) return toConfig(target);
      await tx
        .update(agents)
        .set({ isDefault: false, updatedAt: new Date() })
        .where(and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true)));
      const [row] = await tx
        .update(agents)
        .set({ isDefault: true, updatedAt: new Date() })
        .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
        .returning();
      return row ? toConfig(row) : null;
    });
    this.forget(tenantId);
    return updated;
  }

  /** Idempotent and race-safe: concurrent first runs of a tenant insert one tenant and one default agent. */
  private async ensureDefault(tenantId: string): Promise<AgentConfig> {
    const [existing] = await this.db
      .select()
      .from(agents)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true)))
      .limit(1);
    if (existing) return toConfig(existing);
    const spec: AgentSpec = {
      name: 'Assistant',
      systemPrompt: DEFAULT_SYSTEM_PROMPT,
      greeting: '',
      model: this.defaults.model,
      temperature: 0.3,
      tools: [...this.defaults.tools],
      flow: 'chat',
      doubleTexting: 'enqueue',
      maxRunMs: this.defaults.maxRunMs,
    };
    await this.db.transaction(async (tx) => {
      await tx.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
      const [row] = await tx.insert(agents).values({ tenantId, id: DEFAULT_AGENT_ID, spec, version: 1, isDefault: true }).onConflictDoNothing().returning();
      if (row) await tx.insert(agentVersions).values({ tenantId, agentId: DEFAULT_AGENT_ID, version: 1, spec, createdBy: null });
    });
    const [row] = await this.db
      .select()
      .from(agents)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true)))
      .limit(1);
    if (!row) throw new Error(`tenant ${tenantId} has no default agent after creating one`);
    return toConfig(row);
  }
}
