import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { AgentAdmin } from '../domain/agents/agent-admin.js';
import { maskToolSecrets } from '../domain/tools/tool-secrets.js';
import type { AgentStore } from '../stores/agent-store.js';

// The tenant is the envelope's, never the payload's; the version's author is the action's userId.
// Every reply that carries an agent's spec masks its header values (AgentAdmin for the rest).

export const listAgentsHandler =
  (agents: AgentStore): Handler<Catalog, 'agent.list_agents'> =>
  async (_data, ctx) => ({ agents: (await agents.list(ctx.action.tenantId)).map(maskToolSecrets) });

export const getAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.get_agent'> =>
  async (data, ctx) =>
    admin.get(ctx.action.tenantId, data.agentId);

export const createAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.create_agent'> =>
  async (data, ctx) =>
    admin.create(ctx.action.tenantId, data, ctx.action.userId ?? null);

export const updateAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.update_agent'> =>
  async (patch, ctx) =>
    admin.update(ctx.action.tenantId, patch, ctx.action.userId ?? null);

export const archiveAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.archive_agent'> =>
  async (data, ctx) =>
    admin.setArchived(ctx.action.tenantId, data.agentId, data.archived);

export const setDefaultAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.set_default_agent'> =>
  async (data, ctx) =>
    admin.makeDefault(ctx.action.tenantId, data.agentId);

export const listAgentVersionsHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.list_agent_versions'> =>
  async (data, ctx) => ({ versions: await admin.versions(ctx.action.tenantId, data.agentId) });

export const rollbackAgentHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.rollback_agent'> =>
  async (data, ctx) =>
    admin.rollback(ctx.action.tenantId, data.agentId, data.version, ctx.action.userId ?? null);

export const listToolsHandler =
  (admin: AgentAdmin): Handler<Catalog, 'agent.list_tools'> =>
  async () => ({ tools: admin.listTools() });
