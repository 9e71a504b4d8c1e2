import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { RunExecutor } from '../runs/run-executor.js';

export const runHandler =
  (executor: RunExecutor): Handler<Catalog, 'agent.run'> =>
  (data, ctx) =>
    executor.run(data, ctx);
