/**
 * The support desk over REST (handoff/handoff-desk.ts): the tenant's queue of conversations waiting
 * for or held by a person, its live feed (SSE), and taking over, writing and handing back. Staff of the
 * tenant only (a plain user is 403); a conversation that is unknown, another tenant's or a channel's
 * is 404; acting on one someone else holds, or one not held by the caller, is 409 naming who holds it.
 */
import { Handoff, HandoffQueue, HandoffMessage, Id, OperatorMessageRequest, type HandoffFeedEvent } from '@parley/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, principalOf } from '../auth/guard.js';
import type { GatewayContext } from '../context.js';
import { parse, sendError } from './errors.js';
import { doc } from './openapi.js';
import { openEventStream } from './sse.js';

const IdParams = z.object({ id: Id });
const SSE_ANSWER = {
  description:
    "An event stream: `: ready` once subscribed, then each event's `data:` a HandoffFeedEvent as JSON (a conversation changed hands, or a new message in one).",
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};

export function registerHandoffRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const staff = { preHandler: authGuard(ctx.verifier, { staff: true }) };
  const desk = ctx.handoffs;

  app.get(
    '/api/v1/handoffs',
    {
      ...staff,
      schema: doc('handoffs', 'Conversations waiting for a person or held by one (who holds it)', { operationId: 'listHandoffs', reply: HandoffQueue }),
    },
    async (req, reply) => {
      try {
        return await desk.queue(principalOf(req).tenantId);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/handoffs/events',
    {
      ...staff,
      schema: doc('handoffs', "The queue's changes and the new messages of handed-off conversations, as Server-Sent Events", {
        operationId: 'streamHandoffEvents',
        also: { 200: SSE_ANSWER },
      }),
    },
    async (req, reply) => {
      try {
        await streamFeed(ctx, req, reply);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  const act = (path: string, operationId: string, summary: string, run: (req: FastifyRequest, id: string) => Promise<Handoff>) =>
    app.post(
      `/api/v1/conversations/:id/${path}`,
      { ...staff, schema: doc('handoffs', summary, { operationId, params: IdParams, reply: Handoff, errors: [409] }) },
      async (req, reply) => {
        try {
          return await run(req, parse(IdParams, req.params).id);
        } catch (err) {
          return sendError(reply, err);
        }
      },
    );
  act('takeover', 'takeOverConversation', 'Take the conversation over: the bot stops answering it, the user sees you joined', (req, id) =>
    desk.takeover(principalOf(req), id),
  );

  app.post(
    '/api/v1/conversations/:id/messages',
    {
      ...staff,
      schema: doc('handoffs', 'Write to the user of a conversation you hold (saved as `human_agent`, delivered live)', {
        operationId: 'postOperatorMessage',
        params: IdParams,
        body: OperatorMessageRequest,
        reply: HandoffMessage,
        response: 201,
        errors: [409],
      }),
    },
    async (req, reply) => {
      try {
        const { id } = parse(IdParams, req.params);
        const body = parse(OperatorMessageRequest, req.body);
        return reply.code(201).send(await desk.operatorMessage(principalOf(req), id, body.id, body.text));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
  act('handback', 'handBackConversation', 'Give the conversation back to the bot (its holder only)', (req, id) => desk.handback(principalOf(req), id));
}

/** The tenant's feed until the client goes away (or the gateway drains); a comment line keeps proxies from closing it. */
async function streamFeed(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const write = (e: HandoffFeedEvent) => res.write(`data: ${JSON.stringify(e)}\n\n`);
  const res = reply.raw;
  // HEAD (derived from this GET) answers the headers only: no stream to hold open.
  if (req.method === 'HEAD') {
    void reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').send();
    return;
  }
  const stop = await ctx.handoffs.feed.listen(principalOf(req).tenantId, write);
  openEventStream(reply);
  // Subscribed before this line: a client that reads `ready` and then reads the queue misses nothing.
  res.flushHeaders();
  res.write(': ready\n\n');
  ctx.metrics.connections.inc({ kind: 'sse' });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  heartbeat.unref();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    ctx.streams.delete(finish);
    clearInterval(heartbeat);
    stop();
    ctx.metrics.connections.dec({ kind: 'sse' });
    res.end();
  };
  req.raw.on('close', finish);
  ctx.streams.add(finish);
}
