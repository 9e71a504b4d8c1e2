import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { searchKnowledge } from '../domain/search.js';
import type { QueryDeps } from '../domain/ports.js';

export const searchHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.search'> =>
  async (data, ctx) => {
    const started = performance.now();
    const reply = await searchKnowledge(deps.search, ctx.action.tenantId, data, ctx.log, ctx.signal);
    ctx.log.debug({ hits: reply.hits.length, degraded: reply.degraded, ms: Math.round(performance.now() - started) }, 'search');
    return reply;
  };
