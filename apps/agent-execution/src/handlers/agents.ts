import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import type { FlowRegistry } from '../domain/flows/define-flow.js';
import type { AgentStore } from '../stores/agent-store.js';
import type { ToolDef } from '../domain/tools/define-tool.js';
import { prepareAgentTools, type ToolConfigDeps } from '../domain/tools/tool-config.js';
import { maskToolSecrets } from '../domain/tools/tool-secrets.js';

// Every reply that carries an agent's spec masks its header values (maskToolSecrets).

export const listAgentsHandler =
  (agents: AgentStore): Handler<Catalog, 'agent.list_agents'> =>
  async (_data, ctx) => ({ agents: (await agents.list(ctx.action.tenantId)).map(maskToolSecrets) });

export const updateAgentHandler =
  (agents: AgentStore, flows: FlowRegistry, tools: readonly ToolDef[], toolConfig: ToolConfigDeps): Handler<Catalog, 'agent.update_agent'> =>
  async (patch, ctx) => {
    if (patch.flow !== undefined && !flows.get(patch.flow)) {
      throw new ActionError('invalid_payload', `flow "${patch.flow}" is not registered; registered flows: ${flows.names().join(', ')}`, {
        details: { fields: ['flow'] },
      });
    }
    const unknown = (patch.tools ?? []).filter((t) => !tools.some((d) => d.name === t));
    if (unknown.length > 0) {
      throw new ActionError('invalid_payload', `unknown tools: ${unknown.join(', ')}; available: ${tools.map((t) => t.name).join(', ')}`, {
        details: { fields: ['tools'] },
      });
    }
    const tenantId = ctx.action.tenantId;
    if (patch.mcpServers !== undefined || patch.httpTools !== undefined) {
      const current = await agents.get(tenantId, patch.agentId);
      if (!current) throw new ActionError('not_found', `agent "${patch.agentId}" does not exist for this tenant`);
      patch = { ...patch, ...(await prepareAgentTools(toolConfig, tenantId, patch.agentId, patch, current)) };
    }
    const updated = await agents.update(tenantId, patch, ctx.action.userId ?? null);
    if (!updated) throw new ActionError('not_found', `agent "${patch.agentId}" does not exist for this tenant`);
    return maskToolSecrets(updated);
  };
