import { ActionError, type AgentConfig, type AgentSpec, type AgentVersion, type CreateAgent, type ToolInfo, type UpdateAgent } from '@parley/contracts';
import type { AgentStore } from '../../stores/agent-store.js';
import type { FlowRegistry } from '../flows/define-flow.js';
import type { ToolDef } from '../tools/define-tool.js';
import { prepareAgentTools, type ToolConfigDeps } from '../tools/tool-config.js';
import { maskToolSecrets } from '../tools/tool-secrets.js';

/**
 * Refuses a spec (whole or partial) that names a flow or a tool this service does not have, so an agent never exists
 * that fails every run. Create, update and rollback all go through it: a rollback to a version naming a tool since
 * removed is refused like an update would be.
 */
export function checkAgentSpec(spec: Partial<AgentSpec>, flows: FlowRegistry, tools: readonly ToolDef[]): void {
  if (spec.flow !== undefined && !flows.get(spec.flow)) {
    throw new ActionError('invalid_payload', `flow "${spec.flow}" is not registered; registered flows: ${flows.names().join(', ')}`, {
      details: { fields: ['flow'] },
    });
  }
  const unknown = (spec.tools ?? []).filter((t) => !tools.some((d) => d.name === t));
  if (unknown.length > 0) {
    throw new ActionError('invalid_payload', `unknown tools: ${unknown.join(', ')}; available: ${tools.map((t) => t.name).join(', ')}`, {
      details: { fields: ['tools'] },
    });
  }
}

const notFound = (agentId: string) => new ActionError('not_found', `agent "${agentId}" does not exist for this tenant`);

/**
 * What operators do with a tenant's agents: every decision and refusal; the store only reads and writes. Every agent
 * or version it returns has its tool header values masked (maskToolSecrets); the sealed values stay in the store.
 */
export class AgentAdmin {
  private readonly toolInfo: ToolInfo[];

  constructor(
    private readonly agents: AgentStore,
    private readonly flows: FlowRegistry,
    private readonly tools: readonly ToolDef[],
    private readonly toolConfig: ToolConfigDeps,
  ) {
    this.toolInfo = tools.map((t) => ({ name: t.name, description: t.description, source: 'builtin', ...(t.roles ? { roles: [...t.roles] } : {}) }));
  }

  listTools(): ToolInfo[] {
    return this.toolInfo;
  }

  async get(tenantId: string, agentId: string): Promise<AgentConfig> {
    return maskToolSecrets(await this.current(tenantId, agentId));
  }

  private async current(tenantId: string, agentId: string): Promise<AgentConfig> {
    const agent = await this.agents.get(tenantId, agentId);
    if (!agent) throw notFound(agentId);
    return agent;
  }

  async create(tenantId: string, data: CreateAgent, userId: string | null): Promise<AgentConfig> {
    const { agentId, ...fields } = data;
    checkAgentSpec(fields, this.flows, this.tools);
    // MCP servers and HTTP tools are checked (guard, reachability, listed tools) and their header values sealed.
    const spec =
      fields.mcpServers !== undefined || fields.httpTools !== undefined
        ? { ...fields, ...(await prepareAgentTools(this.toolConfig, tenantId, agentId, fields, null)) }
        : fields;
    const outcome = await this.agents.create(tenantId, agentId, spec, userId);
    if ('exists' in outcome) {
      throw new ActionError('conflict', `agent "${agentId}" already exists for this tenant (archived ones included); change it with an update instead`);
    }
    return maskToolSecrets(outcome.created);
  }

  async update(tenantId: string, patch: UpdateAgent, userId: string | null): Promise<AgentConfig> {
    checkAgentSpec(patch, this.flows, this.tools);
    if (patch.mcpServers !== undefined || patch.httpTools !== undefined) {
      const current = await this.current(tenantId, patch.agentId);
      patch = { ...patch, ...(await prepareAgentTools(this.toolConfig, tenantId, patch.agentId, patch, current)) };
    }
    const updated = await this.agents.update(tenantId, patch, userId);
    if (!updated) throw notFound(patch.agentId);
    return maskToolSecrets(updated);
  }

  async versions(tenantId: string, agentId: string): Promise<AgentVersion[]> {
    const versions = await this.agents.versions(tenantId, agentId);
    if (versions.length === 0) throw notFound(agentId);
    return versions.map((v) => ({ ...v, spec: maskToolSecrets(v.spec) }));
  }

  async rollback(tenantId: string, agentId: string, version: number, userId: string | null): Promise<AgentConfig> {
    const versions = await this.versions(tenantId, agentId);
    const target = versions.find((v) => v.version === version);
    if (!target) {
      throw new ActionError('not_found', `agent "${agentId}" has no version ${version}; its versions are 1 to ${versions[0]?.version ?? 1}`, {
        details: { fields: ['version'] },
      });
    }
    // The old spec's header values are restored as they were sealed (bound to this tenant and agent).
    checkAgentSpec(target.spec, this.flows, this.tools);
    const rolled = await this.agents.rollback(tenantId, agentId, version, userId);
    if (!rolled) throw notFound(agentId);
    return maskToolSecrets(rolled);
  }

  async setArchived(tenantId: string, agentId: string, archived: boolean): Promise<AgentConfig> {
    const agent = await this.current(tenantId, agentId);
    if (archived && agent.isDefault) {
      throw new ActionError(
        'conflict',
        `agent "${agentId}" is the tenant's default agent (the web chat's); make another agent the default before archiving it`,
      );
    }
    const updated = await this.agents.setArchived(tenantId, agentId, archived);
    if (!updated) throw notFound(agentId);
    return maskToolSecrets(updated);
  }

  /** Makes the agent the tenant's default: the one the web chat and runs without agentId use. */
  async makeDefault(tenantId: string, agentId: string): Promise<AgentConfig> {
    const agent = await this.current(tenantId, agentId);
    if (agent.archived) throw new ActionError('conflict', `agent "${agentId}" is archived; restore it before making it the default`);
    const updated = await this.agents.makeDefault(tenantId, agentId);
    if (!updated) throw notFound(agentId);
    return maskToolSecrets(updated);
  }
}
