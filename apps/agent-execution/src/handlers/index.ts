import type { Bus, Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { FlowRegistry } from '../domain/flows/define-flow.js';
import type { CancelHub } from '../domain/runs/cancel-hub.js';
import type { ApprovalDecisions } from '../domain/runs/approval-decisions.js';
import type { RunLifecycle } from '../domain/runs/run-lifecycle.js';
import type { RunPauses } from '../stores/run-pauses.js';
import type { ToolDef } from '../domain/tools/define-tool.js';
import type { ToolConfigDeps } from '../domain/tools/tool-config.js';
import type { AgentStore } from '../stores/agent-store.js';
import type { RunStore } from '../stores/run-store.js';
import { AgentAdmin } from '../domain/agents/agent-admin.js';
import {
  archiveAgentHandler,
  createAgentHandler,
  getAgentHandler,
  listAgentsHandler,
  listAgentVersionsHandler,
  listToolsHandler,
  rollbackAgentHandler,
  setDefaultAgentHandler,
  updateAgentHandler,
} from './agents.js';
import { decideApprovalHandler, resumeRunHandler } from './approvals.js';
import { cancelHandler } from './cancel.js';
import { listFlowsHandler } from './flows.js';
import { runHandler } from './run.js';
import { getRunHandler, listRunsHandler, validateRunHandler } from './runs.js';

export interface HandlerDeps {
  bus: Bus<Catalog>;
  lifecycle: RunLifecycle;
  runs: RunStore;
  agents: AgentStore;
  flows: FlowRegistry;
  tools: readonly ToolDef[];
  toolConfig: ToolConfigDeps;
  cancels: CancelHub;
  decisions: ApprovalDecisions;
  pauses: RunPauses;
}

export function agentHandlers(d: HandlerDeps) {
  const admin = new AgentAdmin(d.agents, d.flows, d.tools, d.toolConfig);
  return {
    'agent.run': runHandler(d.lifecycle),
    'agent.cancel': cancelHandler(d.runs, d.cancels, d.pauses, d.bus),
    'agent.decide_approval': decideApprovalHandler(d.decisions),
    'agent.resume_run': resumeRunHandler(d.lifecycle),
    'agent.validate_run': validateRunHandler(d.agents, d.flows),
    'agent.get_run': getRunHandler(d.runs),
    'agent.list_runs': listRunsHandler(d.runs),
    'agent.list_flows': listFlowsHandler(d.flows),
    'agent.list_agents': listAgentsHandler(d.agents),
    'agent.get_agent': getAgentHandler(admin),
    'agent.create_agent': createAgentHandler(admin),
    'agent.update_agent': updateAgentHandler(admin),
    'agent.archive_agent': archiveAgentHandler(admin),
    'agent.set_default_agent': setDefaultAgentHandler(admin),
    'agent.list_agent_versions': listAgentVersionsHandler(admin),
    'agent.rollback_agent': rollbackAgentHandler(admin),
    'agent.list_tools': listToolsHandler(admin),
  } satisfies Handlers<Catalog, 'agent'>;
}
