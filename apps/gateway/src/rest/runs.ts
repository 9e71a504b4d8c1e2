/** Runs over REST: start (202 + optional webhook, delivered by any replica), read, SSE events, cancel, and the flow list. */
import { uuidv7 } from '@parley/bus';
import { Id, StartRunRequest } from '@parley/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import { userActor } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { parse, refuse, sendError } from './errors.js';
import { doc } from './openapi.js';
import { sendRateLimited } from './rate-limited.js';
import { streamRunEvents } from './sse.js';

const RunParams = z.object({ id: Id });

export function registerRunRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const auth = { preHandler: authGuard(ctx.verifier) };

  /** The rule for runs (auth/access.ts): anything the caller may not touch, made-up ids included, is a 404. */
  const readableRun = async (req: FastifyRequest): Promise<string> => {
    const { id } = parse(RunParams, req.params);
    await ctx.runAccess.check(userActor(principalOf(req)), id);
    return id;
  };

  app.post('/api/v1/runs', { ...auth, schema: doc('runs', 'Start a run', { body: StartRunRequest, response: 202 }) }, async (req, reply) => {
    try {
      const body = parse(StartRunRequest, req.body);
      const p = principalOf(req);
      if (body.webhook) {
        const problem = ctx.webhooks.check(body.webhook);
        if (problem) return refuse(reply, 400, { code: 'invalid_payload', message: problem, retryable: false });
      }
      // An unknown (or another tenant's) agent is a 404 and an archived one a 409 now, not a run that fails after the 202.
      if (body.agentId !== undefined) await ctx.agents.check(p.tenantId, body.agentId);
      // One budget with WS chat.message: REST is not a way around the chat limit.
      const rate = await ctx.limiter.consume('runs', p);
      if (!rate.ok) return sendRateLimited(reply, 'runs started', rate.retryAfterMs);
      const runId = uuidv7();
      // RunStarter applies the conversation rule: another's conversation is a 404, a channel's a 400.
      // The webhook rides with the run: agent-execution sends `channel.webhook.deliver` when it ends,
      // for any replica to post, so it does not depend on this process still being alive then.
      const run = {
        runId,
        input: body.input,
        channel: 'api' as const,
        ...pick(body, ['flow', 'agentId', 'conversationId']),
        ...(body.webhook ? { notify: { webhook: body.webhook } } : {}),
      };
      await ctx.runs.start({ run, principal: p, requestId: req.id });
      return reply.code(202).send({ runId, status: 'PENDING', eventsUrl: `/api/v1/runs/${runId}/events` });
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get('/api/v1/runs/:id', { ...auth, schema: doc('runs', 'One run', { params: RunParams }) }, async (req, reply) => {
    try {
      const id = await readableRun(req);
      return await ctx.bus.call('agent.get_run', { runId: id }, callerMeta(req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get(
    '/api/v1/runs/:id/events',
    {
      ...auth,
      schema: doc('runs', 'Run events as Server-Sent Events (PENDING, PROGRESS, SUCCESS, FAILURE); resumes after Last-Event-ID', { params: RunParams }),
    },
    async (req, reply) => {
      try {
        streamRunEvents(ctx, await readableRun(req), req, reply);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post('/api/v1/runs/:id/cancel', { ...auth, schema: doc('runs', 'Cancel a run', { params: RunParams }) }, async (req, reply) => {
    try {
      const id = await readableRun(req);
      return await ctx.bus.call('agent.cancel', { runId: id }, callerMeta(req));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get('/api/v1/flows', { ...auth, schema: doc('runs', 'Registered flows with their input JSON schemas') }, async (req, reply) => {
    try {
      return await ctx.bus.call('agent.list_flows', {}, callerMeta(req));
    } catch (err) {
      return sendError(reply, err);
    }
  });
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
