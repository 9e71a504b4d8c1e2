/**
 * The tenant's agents as the gateway sees them: the WebSocket's `?agent=` (welcome), REST runs' `agentId` and Chatwoot
 * inboxes' `agentId` are checked here before anything starts. An unknown, another tenant's or an archived agent is a
 * refusal, never a silent fallback to the default. Cached briefly, so a reconnect storm is one call per tenant; a miss
 * (or an archived hit) asks again at once, so an agent created or restored a moment ago is found.
 */
import type { Bus } from '@parley/bus';
import { ActionError, type AgentConfig, type Catalog } from '@parley/contracts';
import type { Logger } from 'pino';

const TTL_MS = 30_000;

export class AgentDirectory {
  private readonly cache = new Map<string, { at: number; agents: Promise<AgentConfig[]> }>();

  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly log: Logger,
  ) {}

  private list(tenantId: string, fresh: boolean): Promise<AgentConfig[]> {
    let hit = this.cache.get(tenantId);
    if (fresh || !hit || Date.now() - hit.at > TTL_MS) {
      const agents = this.bus.call('agent.list_agents', {}, { tenantId }, { timeoutMs: 3_000 }).then((r) => r.agents);
      hit = { at: Date.now(), agents };
      this.cache.set(tenantId, hit);
      agents.catch(() => this.cache.delete(tenantId));
    }
    return hit.agents;
  }

  /** Drops the tenant's cached agents (after a change made through this gateway). */
  forget(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  /**
   * The named agent, or the tenant's default one when none is named. Throws ActionError `not_found` (no such agent for
   * this tenant) or `conflict` (archived); a failure to ask agent-execution is thrown as it is.
   */
  async resolve(tenantId: string, agentId?: string): Promise<AgentConfig> {
    const find = (agents: AgentConfig[]) => (agentId === undefined ? agents.find((a) => a.isDefault) : agents.find((a) => a.agentId === agentId));
    let agent = find(await this.list(tenantId, false));
    if (!agent || agent.archived) agent = find(await this.list(tenantId, true));
    if (!agent)
      throw new ActionError('not_found', agentId === undefined ? 'this tenant has no default agent' : `agent "${agentId}" does not exist for this tenant`);
    if (agent.archived) throw new ActionError('conflict', `agent "${agent.agentId}" is archived; an operator can restore it`);
    return agent;
  }

  /**
   * Refuses (throws) an agent `resolve` refuses; when agent-execution cannot be asked, lets the caller go on, as every run
   * is checked again when agent-execution admits it: a run queued during its outage still runs once it is back.
   */
  async check(tenantId: string, agentId: string): Promise<void> {
    try {
      await this.resolve(tenantId, agentId);
    } catch (err) {
      if (isRefusal(err)) throw err;
      this.log.warn({ err, tenantId }, 'could not check the agent; agent-execution checks it when the run starts');
    }
  }

  /**
   * The agent named in `welcome`, with its greeting ('' = none). Refusals are thrown (see resolve). When
   * agent-execution cannot be asked, the asked agent is named unverified (and greets with nothing) rather than refusing
   * the socket: every run is checked again by agent-execution.
   */
  async pick(tenantId: string, agentId?: string): Promise<{ id: string; name: string; greeting: string }> {
    try {
      const a = await this.resolve(tenantId, agentId);
      return { id: a.agentId, name: a.name, greeting: a.greeting };
    } catch (err) {
      if (isRefusal(err)) throw err;
      this.log.warn({ err, tenantId }, 'could not list agents for welcome; naming the asked agent unverified');
      return { id: agentId ?? 'default', name: 'Assistant', greeting: '' };
    }
  }
}

const isRefusal = (err: unknown): boolean => err instanceof ActionError && (err.code === 'not_found' || err.code === 'conflict');
