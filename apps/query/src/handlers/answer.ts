import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { answerQuestion } from '../domain/answer.js';
import type { QueryDeps } from '../domain/ports.js';

export const answerHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.answer'> =>
  async (data, ctx) => {
    const reply = await answerQuestion(deps.answer, ctx.action.tenantId, data, ctx.log, ctx.signal);
    ctx.log.info({ grounded: reply.grounded, citations: reply.citations.length }, 'answer');
    return reply;
  };
