import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { FlowRegistry } from '../domain/flows/define-flow.js';
import type { CancelHub } from '../domain/runs/cancel-hub.js';
import type { RunLifecycle } from '../domain/runs/run-lifecycle.js';
import type { ToolDef } from '../domain/tools/define-tool.js';
import type { ToolConfigDeps } from '../domain/tools/tool-config.js';
import type { AgentStore } from '../stores/agent-store.js';
import type { RunStore } from '../stores/run-store.js';
import { listAgentsHandler, updateAgentHandler } from './agents.js';
import { cancelHandler } from './cancel.js';
import { listFlowsHandler } from './flows.js';
import { runHandler } from './run.js';
import { getRunHandler, listRunsHandler } from './runs.js';

export interface HandlerDeps {
  lifecycle: RunLifecycle;
  runs: RunStore;
  agents: AgentStore;
  flows: FlowRegistry;
  tools: readonly ToolDef[];
  toolConfig: ToolConfigDeps;
  cancels: CancelHub;
}

export function agentHandlers(d: HandlerDeps) {
  return {
    'agent.run': runHandler(d.lifecycle),
    'agent.cancel': cancelHandler(d.runs, d.cancels),
    'agent.get_run': getRunHandler(d.runs),
    'agent.list_runs': listRunsHandler(d.runs),
    'agent.list_flows': listFlowsHandler(d.flows),
    'agent.list_agents': listAgentsHandler(d.agents),
    'agent.update_agent': updateAgentHandler(d.agents, d.flows, d.tools, d.toolConfig),
  } satisfies Handlers<Catalog, 'agent'>;
}
