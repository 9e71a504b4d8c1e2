import { ActionError, describeZodError, type AgentConfig, type AgentRun } from '@parley/contracts';
import type { AgentStore } from '../../stores/agent-store.js';
import type { FlowRegistry, RegisteredFlow } from '../flows/define-flow.js';

export interface Admitted {
  agent: AgentConfig;
  flow: RegisteredFlow;
  input: unknown;
  conversationId: string | null;
}

/** Everything checked before a run exists: the agent, the flow, the flow's input. Failures are ActionErrors a user can act on. */
export async function admit(agents: AgentStore, flows: FlowRegistry, tenantId: string, data: AgentRun): Promise<Admitted> {
  const agent = await agents.get(tenantId, data.agentId);
  if (!agent) throw new ActionError('not_found', `agent "${data.agentId}" does not exist for tenant ${tenantId}; agent.list_agents lists the tenant's agents`);
  if (agent.archived) throw new ActionError('conflict', `agent "${agent.agentId}" is archived and starts no runs; restore it or use another agent`);
  const flowName = data.flow ?? agent.flow;
  const flow = flows.get(flowName);
  if (!flow)
    throw new ActionError('not_found', `flow "${flowName}" is not registered; registered flows: ${flows.names().join(', ')}`, {
      details: { fields: ['flow'] },
    });
  const parsed = flow.input.safeParse(data.input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)');
    throw new ActionError('invalid_payload', `invalid input for flow "${flow.name}": ${describeZodError(parsed.error)}`, { details: { fields } });
  }
  const conversationId = data.conversationId ?? null;
  if (flow.requiresConversation && !conversationId)
    throw new ActionError('invalid_payload', `flow "${flow.name}" needs a conversationId`, { details: { fields: ['conversationId'] } });
  return { agent, flow, input: parsed.data, conversationId };
}

/**
 * `agent.validate_run`: admission without a run. What the caller sent wrong is `invalid_payload` naming
 * the request's field (`flow`, `input.<path>`, `conversationId`); an unknown agent stays `not_found`
 * and an archived one `conflict`, as agent.run answers them.
 */
export async function validateRun(
  agents: AgentStore,
  flows: FlowRegistry,
  tenantId: string,
  data: Omit<AgentRun, 'runId' | 'channel'>,
): Promise<{ agentId: string; flow: string }> {
  try {
    const { agent, flow } = await admit(agents, flows, tenantId, { ...data, runId: 'validate', channel: 'api' });
    return { agentId: agent.agentId, flow: flow.name };
  } catch (err) {
    if (!(err instanceof ActionError) || !Array.isArray(err.details?.['fields'])) throw err;
    const named = err.details['fields'] as string[];
    const fields = named.map((f) => (f === 'flow' || f === 'conversationId' ? f : `input${f === '(root)' ? '' : `.${f}`}`));
    throw new ActionError('invalid_payload', err.message, { details: { fields } });
  }
}
