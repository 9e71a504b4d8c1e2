/**
 * The caller's own things, whatever their role: `GET /api/v1/me/conversations` lists the
 * conversations they own (web and REST; never a channel's, never another user's, staff included),
 * so another device or a cleared browser finds them again. Scoped by the token's tenant and user.
 */
import { ListConversations } from '@parley/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import type { GatewayContext } from '../context.js';
import { parse, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';

const MyConversationsQuery = ListConversations.pick({ q: true, status: true, agentId: true, cursor: true }).extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export function registerMeRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const user = { preHandler: authGuard(ctx.verifier) };
  app.get(
    '/api/v1/me/conversations',
    {
      ...user,
      schema: doc(
        'conversations',
        'Your own conversations, newest activity first (title, last activity, agent, status); `q` searches their messages (each hit has `match` with a snippet); page with `cursor`',
        { operationId: 'listMyConversations', querystring: MyConversationsQuery, reply: replyOf('conversation.list') },
      ),
    },
    async (req, reply) => {
      try {
        const p = principalOf(req);
        const q = parse(MyConversationsQuery, req.query);
        return await ctx.bus.call('conversation.list', { ...q, userId: p.userId }, callerMeta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
