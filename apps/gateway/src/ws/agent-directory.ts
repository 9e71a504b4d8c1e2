/** The agent named in `welcome`: the tenant's agents, cached briefly so a reconnect storm is one call per tenant. */
import type { Bus } from '@parley/bus';
import type { AgentConfig, Catalog } from '@parley/contracts';
import type { Logger } from 'pino';

const TTL_MS = 30_000;

export class AgentDirectory {
  private readonly cache = new Map<string, { at: number; agents: Promise<AgentConfig[]> }>();

  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly log: Logger,
  ) {}

  /** `greeting` is what the agent says when a new conversation opens ('' = nothing). */
  async pick(tenantId: string, agentId?: string): Promise<{ id: string; name: string; greeting: string }> {
    let hit = this.cache.get(tenantId);
    if (!hit || Date.now() - hit.at > TTL_MS) {
      const agents = this.bus.call('agent.list_agents', {}, { tenantId }, { timeoutMs: 3_000 }).then((r) => r.agents);
      hit = { at: Date.now(), agents };
      this.cache.set(tenantId, hit);
      agents.catch(() => this.cache.delete(tenantId));
    }
    try {
      const agents = await hit.agents;
      const a = agents.find((x) => x.agentId === agentId) ?? agents.find((x) => x.isDefault) ?? agents[0];
      if (a) return { id: a.agentId, name: a.name, greeting: a.greeting };
    } catch (err) {
      this.log.warn({ err, tenantId }, 'could not list agents for welcome; naming the default agent');
    }
    return { id: agentId ?? 'default', name: 'Assistant', greeting: '' };
  }
}
