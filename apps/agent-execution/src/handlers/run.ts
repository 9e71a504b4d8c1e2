import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { RunLifecycle } from '../domain/runs/run-lifecycle.js';

export const runHandler =
  (lifecycle: RunLifecycle): Handler<Catalog, 'agent.run'> =>
  (data, ctx) =>
    lifecycle.handle(data, ctx);
