/** Runs over REST: start (202 + optional webhook, delivered by any replica), read, SSE events, cancel, and the flow list. */
import { uuidv7 } from '@parley/bus';
import { ActionError, DecideApprovalBody, Id, ListRuns, StartRunRequest, StartRunResponse } from '@parley/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import { userActor } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { parse, parseHeader, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';
import { sendRateLimited } from './rate-limited.js';
import { streamRunEvents } from './sse.js';
import { decideApproval } from '../runs/run-approvals.js';
import { IdempotencyKey } from '../runs/run-idempotency.js';
import { DEFAULT_WAIT_MS, StartAndWaitRequest, WaitQuery, isFinal, waitForRun } from '../runs/run-wait.js';

const RunParams = z.object({ id: Id });
/** What GET /runs/:id/events answers: an event stream, each event's data the run's state so far (rest/sse.ts). */
const SSE_ANSWER = {
  description:
    'An event stream. Each event is sent named (`event: SUCCESS`) and unnamed, with `id: <seq>` and `data:` the run state so far: `{type, runId, seq, state, status, progress, step_results, final_result, event}`. It ends after SUCCESS or FAILURE. Send `Last-Event-ID` (or `?lastEventId=`) to resume after an event.',
  content: {
    'text/event-stream': {
      schema: { type: 'string' },
      example:
        'id: 3\nevent: SUCCESS\ndata: {"type":"SUCCESS","runId":"0192f3c4-1b2a-7cde-8f00-123456789abc","seq":3,"state":"SUCCESS","status":"SUCCEEDED","progress":100,"step_results":[],"final_result":{"text":"We open at 9."}}\n\n',
    },
  },
};
/** The owner filter is the gateway's to set (the rule below), not a query parameter. */
const RunsQuery = ListRuns.omit({ owner: true }).extend({ limit: z.coerce.number().int().min(1).max(100).default(20) });

export function registerRunRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const auth = { preHandler: authGuard(ctx.verifier) };

  /** The rule for runs (auth/access.ts): anything the caller may not touch, made-up ids included, is a 404. */
  const readableRun = async (req: FastifyRequest): Promise<string> => {
    const { id } = parse(RunParams, req.params);
    await ctx.runAccess.check(userActor(principalOf(req)), id);
    return id;
  };

  /**
   * Everything `POST /runs` and `POST /runs/wait` do before the 202: the body, the webhook, the agent,
   * the flow and its input (agent.validate_run), the Idempotency-Key, the rate limit, then the start.
   * Answers the run id and whether this request started it (false: an earlier one with the same key did).
   */
  const startRun = async (req: FastifyRequest, body: StartRunRequest): Promise<{ runId: string; fresh: boolean } | { limited: number }> => {
    const p = principalOf(req);
    if (body.webhook) {
      const problem = ctx.webhooks.check(body.webhook);
      if (problem) throw new ActionError('invalid_payload', problem, { details: { fields: ['webhook'] } });
    }
    // An unknown (or another tenant's) agent is a 404 and an archived one a 409 now, not a run that fails after the 202.
    if (body.agentId !== undefined) await ctx.agents.check(p.tenantId, body.agentId);
    // The flow and its input as agent-execution admits them (its registry, not a copy here): a 400 naming the field.
    await ctx.bus.call('agent.validate_run', { input: body.input, ...pick(body, ['flow', 'agentId', 'conversationId']) }, callerMeta(req));
    const header = req.headers['idempotency-key'];
    const key = header === undefined ? undefined : parseHeader(IdempotencyKey, 'Idempotency-Key', header);
    const actor = userActor(p);
    const runId = uuidv7();
    if (key !== undefined) {
      const claimed = await ctx.idempotency.claim(actor, key, body, runId);
      if (!claimed.fresh) return { runId: claimed.runId, fresh: false };
    }
    try {
      // One budget with WS chat.message: REST is not a way around the chat limit.
      const rate = await ctx.limiter.consume('runs', p);
      if (!rate.ok) {
        if (key !== undefined) await ctx.idempotency.release(actor, key, runId);
        return { limited: rate.retryAfterMs };
      }
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
      return { runId, fresh: true };
    } catch (err) {
      if (key !== undefined) await ctx.idempotency.release(actor, key, runId);
      throw err;
    }
  };

  const startErrors = [404, 409, 422, 429];
  const location = { location: { description: 'The run: GET it for its status', type: 'string' as const } };
  app.post(
    '/api/v1/runs',
    {
      ...auth,
      schema: doc('runs', 'Start a run', {
        operationId: 'startRun',
        description:
          'Validates the flow, agent and input first (400 naming the field, 404 for an unknown agent, 409 for an archived one), then answers 202 while the run goes on. Send `Idempotency-Key` to make a retry safe.',
        body: StartRunRequest,
        bodyExample: { flow: 'chat', input: { text: 'What are your opening hours?' } },
        response: 202,
        reply: StartRunResponse,
        replyDescription: 'Started; follow it at `eventsUrl` (SSE) or GET `Location`',
        replyExample: {
          runId: '0192f3c4-1b2a-7cde-8f00-123456789abc',
          status: 'PENDING',
          eventsUrl: '/api/v1/runs/0192f3c4-1b2a-7cde-8f00-123456789abc/events',
        },
        errors: startErrors,
      }),
    },
    async (req, reply) => {
      try {
        const started = await startRun(req, parse(StartRunRequest, req.body));
        if ('limited' in started) return sendRateLimited(reply, 'runs started', started.limited);
        const { runId } = started;
        return reply
          .code(202)
          .header('location', `/api/v1/runs/${runId}`)
          .send({ runId, status: 'PENDING', eventsUrl: `/api/v1/runs/${runId}/events` });
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/runs/wait',
    {
      ...auth,
      schema: doc('runs', 'Start a run and wait for its end (200 + the run) or timeoutMs (202 + Location + the run so far)', {
        operationId: 'startRunAndWait',
        body: StartAndWaitRequest,
        querystring: WaitQuery,
        reply: replyOf('agent.get_run'),
        replyDescription: 'The run ended (SUCCEEDED, FAILED or CANCELLED)',
        also: {
          202: { description: 'Still running at the timeout: the run so far; GET `Location` later', reply: replyOf('agent.get_run'), headers: location },
        },
        errors: startErrors,
      }),
    },
    async (req, reply) => {
      try {
        const { timeoutMs: inBody, ...rest } = parse(StartAndWaitRequest, req.body);
        const timeoutMs = parse(WaitQuery, req.query).timeoutMs ?? inBody ?? DEFAULT_WAIT_MS;
        const started = await startRun(req, rest);
        if ('limited' in started) return sendRateLimited(reply, 'runs started', started.limited);
        const record = await waitForRun(ctx, started.runId, timeoutMs, callerMeta(req));
        if (isFinal(record.status)) return reply.code(200).send(record);
        return reply.code(202).header('location', `/api/v1/runs/${started.runId}`).send(record);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/runs',
    {
      ...auth,
      schema: doc('runs', "Runs newest first, filtered by status, flow, agentId or conversationId, paged by nextCursor: a user's own, staff the tenant's", {
        operationId: 'listRuns',
        querystring: RunsQuery,
        reply: replyOf('agent.list_runs'),
      }),
    },
    async (req, reply) => {
      try {
        const q = parse(RunsQuery, req.query);
        const p = principalOf(req);
        // The run rule (auth/access.ts) as a filter: a plain user lists what they own, staff the tenant's.
        const actor = userActor(p);
        const filter = actor.staff ? q : { ...q, owner: actor.owner };
        return await ctx.bus.call('agent.list_runs', filter, { ...callerMeta(req), roles: p.roles });
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/runs/:id',
    { ...auth, schema: doc('runs', 'One run', { operationId: 'getRun', params: RunParams, reply: replyOf('agent.get_run') }) },
    async (req, reply) => {
      try {
        const id = await readableRun(req);
        return await ctx.bus.call('agent.get_run', { runId: id }, callerMeta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/runs/:id/events',
    {
      ...auth,
      schema: doc('runs', 'Run events as Server-Sent Events (PENDING, PROGRESS, SUCCESS, FAILURE); resumes after Last-Event-ID', {
        operationId: 'streamRunEvents',
        params: RunParams,
        also: { 200: SSE_ANSWER },
      }),
    },
    async (req, reply) => {
      try {
        streamRunEvents(ctx, await readableRun(req), req, reply);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/runs/:id/cancel',
    { ...auth, schema: doc('runs', 'Cancel a run', { operationId: 'cancelRun', params: RunParams, reply: replyOf('agent.cancel') }) },
    async (req, reply) => {
      try {
        const id = await readableRun(req);
        return await ctx.bus.call('agent.cancel', { runId: id }, callerMeta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/runs/:id/approval',
    {
      ...auth,
      schema: doc('runs', 'Approve, edit or reject the tool call a paused run waits on; the run then goes on', {
        operationId: 'decideRunApproval',
        description:
          "The run must be PAUSED on that `approvalId` (its `approval`, and its `approval_requested` step), else 409; a second decision is a 409 too. `edit` needs `args`, checked against the tool's schema (400 naming the field). Who decides is the agent's `approver`: `user` (the run's owner, or staff) or `operator` (staff only, 403 to the owner).",
        params: RunParams,
        body: DecideApprovalBody,
        bodyExample: { approvalId: 'call_1', decision: 'approve' },
        reply: replyOf('agent.decide_approval'),
        replyDescription: 'Decided: the run is RUNNING again; follow its events',
        errors: [403, 409],
      }),
    },
    async (req, reply) => {
      try {
        const { id } = parse(RunParams, req.params);
        const body = parse(DecideApprovalBody, req.body);
        return await decideApproval(ctx, userActor(principalOf(req)), id, body, callerMeta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/flows',
    { ...auth, schema: doc('runs', 'Registered flows with their input JSON schemas', { operationId: 'listFlows', reply: replyOf('agent.list_flows') }) },
    async (req, reply) => {
      try {
        return await ctx.bus.call('agent.list_flows', {}, callerMeta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
