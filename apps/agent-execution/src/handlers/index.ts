import type { Bus, Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { FlowRegistry } from '../flows/define-flow.js';
import type { CancelHub } from '../runs/cancel-hub.js';
import type { RunExecutor } from '../runs/run-executor.js';
import type { AgentStore } from '../stores/agent-store.js';
import type { RunStore } from '../stores/run-store.js';
import type { ToolDef } from '../tools/define-tool.js';
import { listAgentsHandler, updateAgentHandler } from './agents.js';
import { cancelHandler } from './cancel.js';
import { withChatwootReplies } from './chatwoot-replies.js';
import { listFlowsHandler } from './flows.js';
import { runHandler } from './run.js';
import { getRunHandler, listRunsHandler } from './runs.js';
import { withWebhookReplies } from './webhook-replies.js';

export interface HandlerDeps {
  executor: RunExecutor;
  runs: RunStore;
  agents: AgentStore;
  flows: FlowRegistry;
  tools: readonly ToolDef[];
  cancels: CancelHub;
}

export function agentHandlers(d: HandlerDeps) {
  return {
    'agent.run': runHandler(d.executor),
    'agent.cancel': cancelHandler(d.runs, d.cancels),
    'agent.get_run': getRunHandler(d.runs),
    'agent.list_runs': listRunsHandler(d.runs),
    'agent.list_flows': listFlowsHandler(d.flows),
    'agent.list_agents': listAgentsHandler(d.agents),
    'agent.update_agent': updateAgentHandler(d.agents, d.flows, d.tools),
  } satisfies Handlers<Catalog, 'agent'>;
}

/**
 * `agent.run` wrapped by the channels that are answered through the bus rather than by the run's
 * caller: Chatwoot conversations and REST webhooks. Each wrapper passes other runs through untouched.
 */
export function withRunReplies(handlers: Handlers<Catalog, 'agent'>, bus: Bus<Catalog>): Handlers<Catalog, 'agent'> {
  return withWebhookReplies(withChatwootReplies(handlers, bus), bus);
}
