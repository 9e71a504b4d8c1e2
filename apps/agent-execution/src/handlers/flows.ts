import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { FlowRegistry } from '../domain/flows/define-flow.js';

export const listFlowsHandler = (flows: FlowRegistry): Handler<Catalog, 'agent.list_flows'> => {
  // The registry is fixed at start, so its JSON schemas are computed once.
  const reply = { flows: flows.describe() };
  return async () => reply;
};
