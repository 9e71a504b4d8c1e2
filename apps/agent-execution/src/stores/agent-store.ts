import { and, eq } from 'drizzle-orm';
import { agents, tenants, type Db } from '@parley/db';
import type { AgentConfig, UpdateAgent } from '@parley/contracts';

export const DEFAULT_AGENT_ID = 'default';
export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful assistant for this business. Answer briefly and truthfully. Use search_knowledge for facts about ' +
  'the business, current_time for dates and times, and handoff_to_human when the user asks for a person or you cannot help.';

export interface AgentDefaults {
  model: string;
  maxRunMs: number;
  tools: readonly string[];
}

type AgentRow = typeof agents.$inferSelect;

function toConfig(row: AgentRow): AgentConfig {
  return {
    agentId: row.id,
    name: row.name,
    systemPrompt: row.systemPrompt,
    model: row.model,
    temperature: row.temperature,
    tools: row.tools,
    flow: row.flow,
    doubleTexting: row.doubleTexting,
    maxRunMs: row.maxRunMs,
    isDefault: row.isDefault,
  };
}

/** Agents per tenant, in PostgreSQL. A tenant seen for the first time gets a default agent, so a fresh install answers at once. */
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

  async update(tenantId: string, patch: UpdateAgent): Promise<AgentConfig | null> {
    await this.ensureDefault(tenantId);
    const { agentId, ...fields } = patch;
    const set: Partial<typeof agents.$inferInsert> = { updatedAt: new Date() };
    if (fields.name !== undefined) set.name = fields.name;
    if (fields.systemPrompt !== undefined) set.systemPrompt = fields.systemPrompt;
    if (fields.model !== undefined) set.model = fields.model;
    if (fields.temperature !== undefined) set.temperature = fields.temperature;
    if (fields.tools !== undefined) set.tools = fields.tools;
    if (fields.flow !== undefined) set.flow = fields.flow;
    if (fields.doubleTexting !== undefined) set.doubleTexting = fields.doubleTexting;
    if (fields.maxRunMs !== undefined) set.maxRunMs = fields.maxRunMs;
    const [row] = await this.db
      .update(agents)
      .set(set)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId)))
      .returning();
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}\u0000`)) this.cache.delete(key);
    return row ? toConfig(row) : null;
  }

  /** Idempotent and race-safe: concurrent first runs of a tenant insert one tenant and one default agent. */
  private async ensureDefault(tenantId: string): Promise<AgentConfig> {
    await this.db.insert(tenants).values({ id: tenantId, name: tenantId }).onConflictDoNothing();
    await this.db
      .insert(agents)
      .values({
        tenantId,
        id: DEFAULT_AGENT_ID,
        name: 'Assistant',
        systemPrompt: DEFAULT_SYSTEM_PROMPT,
        model: this.defaults.model,
        temperature: 0.3,
        tools: [...this.defaults.tools],
        flow: 'chat',
        doubleTexting: 'enqueue',
        maxRunMs: this.defaults.maxRunMs,
        isDefault: true,
      })
      .onConflictDoNothing();
    const [row] = await this.db
      .select()
      .from(agents)
      .where(and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true)))
      .limit(1);
    if (!row) throw new Error(`tenant ${tenantId} has no default agent after creating one`);
    return toConfig(row);
  }
}
