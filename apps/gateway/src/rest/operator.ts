/**
 * Operator routes: conversations, messages, stats (agents: agents.ts; the run list: runs.ts). The tenant is always the token's. One
 * conversation and its messages follow the conversation rule (auth/access.ts: the owner, or staff
 * of the tenant; 404 otherwise); tenant-wide reads and closing need a staff role (operator or
 * admin). Every call is scoped by the token's tenant on the bus.
 */
import { ConversationStats, Id, ListConversations } from '@parley/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import { userActor } from '../auth/access.js';
import type { GatewayContext } from '../context.js';
import { notFound, parse, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';

const IdParams = z.object({ id: Id });
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ListQuery = ListConversations.extend({ limit: int(1, 100).default(20) });
const MessagesQuery = z.object({ before: int(1, Number.MAX_SAFE_INTEGER).optional(), limit: int(1, 200).default(50) });

export function registerOperatorRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const user = { preHandler: authGuard(ctx.verifier) };
  const staff = { preHandler: authGuard(ctx.verifier, { staff: true }) };
  const meta = (req: FastifyRequest) => {
    const p = principalOf(req);
    return { ...callerMeta(req), roles: p.roles };
  };
  const readableConversation = async (req: FastifyRequest): Promise<string> => {
    const { id } = parse(IdParams, req.params);
    await ctx.conversations.check(userActor(principalOf(req)), id, 'read');
    return id;
  };

  app.get(
    '/api/v1/conversations',
    {
      ...staff,
      schema: doc('conversations', "The tenant's conversations", {
        operationId: 'listConversations',
        querystring: ListQuery,
        reply: replyOf('conversation.list'),
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('conversation.list', parse(ListQuery, req.query), meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/conversations/:id',
    { ...user, schema: doc('conversations', 'One conversation', { operationId: 'getConversation', params: IdParams, reply: replyOf('conversation.get') }) },
    async (req, reply) => {
      try {
        return await ctx.bus.call('conversation.get', { conversationId: await readableConversation(req) }, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/conversations/:id/messages',
    {
      ...user,
      schema: doc('conversations', 'Messages of a conversation, paged backwards by seq', {
        operationId: 'listConversationMessages',
        params: IdParams,
        querystring: MessagesQuery,
        reply: replyOf('conversation.get_history'),
      }),
    },
    async (req, reply) => {
      try {
        const conversationId = await readableConversation(req);
        const q = parse(MessagesQuery, req.query);
        const history = await ctx.bus.call('conversation.get_history', { conversationId, ...q }, meta(req));
        if (history.conversationId === null && history.messages.length === 0) throw notFound(`conversation ${conversationId}`);
        return history;
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/conversations/:id/close',
    {
      ...staff,
      schema: doc('conversations', 'Close a conversation (it migrates to the archive)', {
        operationId: 'closeConversation',
        params: IdParams,
        reply: replyOf('conversation.session_closed'),
      }),
    },
    async (req, reply) => {
      try {
        const id = await readableConversation(req);
        return await ctx.bus.call('conversation.session_closed', { conversationId: id, reason: 'closed by operator' }, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/stats',
    {
      ...staff,
      schema: doc('operators', 'Conversation and token statistics', {
        operationId: 'getStats',
        querystring: ConversationStats,
        reply: replyOf('conversation.stats'),
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('conversation.stats', parse(ConversationStats, req.query), meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
