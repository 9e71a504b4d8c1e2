/**
 * Agents over REST: the tenant's agents as a resource. Reads (list, one, versions, tools) need a staff role, changes need
 * admin. The tenant is always the token's, so another tenant's agent id is simply unknown: 404 `not_found`. Every change
 * is a new version made by agent-execution (`agent.*` actions), authored by the token's user.
 */
import { AgentSpec, CreateAgent, Id } from '@parley/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import type { GatewayContext } from '../context.js';
import { parse, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';

const IdParams = z.object({ id: Id });
const UpdateBody = AgentSpec.partial();
const RollbackBody = z.object({ version: z.number().int().positive() });

export function registerAgentRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const staff = { preHandler: authGuard(ctx.verifier, { staff: true }) };
  const admin = { preHandler: authGuard(ctx.verifier, { admin: true }) };
  const meta = (req: FastifyRequest) => {
    const p = principalOf(req);
    return { ...callerMeta(req), roles: p.roles };
  };
  const idOf = (req: FastifyRequest) => parse(IdParams, req.params).id;
  /** A change made here is seen by this gateway's directory (WS `?agent=`, REST runs, inboxes) at once. */
  const changed = <T>(req: FastifyRequest, value: T): T => {
    ctx.agents.forget(principalOf(req).tenantId);
    return value;
  };

  app.get(
    '/api/v1/agents',
    { ...staff, schema: doc('agents', "The tenant's agents, archived ones included", { operationId: 'listAgents', reply: replyOf('agent.list_agents') }) },
    async (req, reply) => {
      try {
        return await ctx.bus.call('agent.list_agents', {}, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/agents',
    {
      ...admin,
      schema: doc('agents', 'Create an agent (version 1); 409 when the id exists', {
        operationId: 'createAgent',
        body: CreateAgent,
        bodyExample: {
          agentId: 'support',
          name: 'Support',
          systemPrompt: 'You answer questions about our shop, briefly.',
          greeting: 'Hello! How can I help?',
          model: 'gpt-4o-mini',
          temperature: 0.3,
          tools: ['search_knowledge'],
          flow: 'chat',
          doubleTexting: 'enqueue',
          maxRunMs: 120000,
        },
        response: 201,
        reply: replyOf('agent.create_agent'),
        errors: [409],
      }),
    },
    async (req, reply) => {
      try {
        const created = await ctx.bus.call('agent.create_agent', parse(CreateAgent, req.body), meta(req));
        return reply.code(201).send(changed(req, created));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/agents/:id',
    { ...staff, schema: doc('agents', 'One agent', { operationId: 'getAgent', params: IdParams, reply: replyOf('agent.get_agent') }) },
    async (req, reply) => {
      try {
        return await ctx.bus.call('agent.get_agent', { agentId: idOf(req) }, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.put(
    '/api/v1/agents/:id',
    {
      ...admin,
      schema: doc('agents', "Change an agent's prompt, greeting, model, temperature, tools, flow or double texting: a new version", {
        operationId: 'updateAgent',
        params: IdParams,
        body: UpdateBody,
        reply: replyOf('agent.update_agent'),
        errors: [409],
      }),
    },
    async (req, reply) => {
      try {
        const agentId = idOf(req);
        return changed(req, await ctx.bus.call('agent.update_agent', { ...parse(UpdateBody, req.body), agentId }, meta(req)));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  for (const [verb, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const) {
    app.post(
      `/api/v1/agents/:id/${verb}`,
      {
        ...admin,
        schema: doc('agents', archived ? 'Archive an agent: it starts no runs (the default agent cannot be archived)' : 'Restore an archived agent', {
          operationId: archived ? 'archiveAgent' : 'restoreAgent',
          params: IdParams,
          reply: replyOf('agent.archive_agent'),
          errors: [409],
        }),
      },
      async (req, reply) => {
        try {
          return changed(req, await ctx.bus.call('agent.archive_agent', { agentId: idOf(req), archived }, meta(req)));
        } catch (err) {
          return sendError(reply, err);
        }
      },
    );
  }

  app.post(
    '/api/v1/agents/:id/make-default',
    {
      ...admin,
      schema: doc('agents', "Make an agent the tenant's default: the web chat's agent, and the one runs without agentId use", {
        operationId: 'makeDefaultAgent',
        params: IdParams,
        reply: replyOf('agent.set_default_agent'),
        errors: [409],
      }),
    },
    async (req, reply) => {
      try {
        return changed(req, await ctx.bus.call('agent.set_default_agent', { agentId: idOf(req) }, meta(req)));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/agents/:id/versions',
    {
      ...staff,
      schema: doc('agents', "Every version of an agent's spec, newest first", {
        operationId: 'listAgentVersions',
        params: IdParams,
        reply: replyOf('agent.list_agent_versions'),
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('agent.list_agent_versions', { agentId: idOf(req) }, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.post(
    '/api/v1/agents/:id/rollback',
    {
      ...admin,
      schema: doc('agents', "Make an earlier version's spec current again, as a new version", {
        operationId: 'rollbackAgent',
        params: IdParams,
        body: RollbackBody,
        reply: replyOf('agent.rollback_agent'),
      }),
    },
    async (req, reply) => {
      try {
        const agentId = idOf(req);
        const { version } = parse(RollbackBody, req.body);
        return changed(req, await ctx.bus.call('agent.rollback_agent', { agentId, version }, meta(req)));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/tools',
    {
      ...staff,
      schema: doc('agents', 'The tools an agent can be given, with descriptions and the roles that may use them', {
        operationId: 'listTools',
        reply: replyOf('agent.list_tools'),
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('agent.list_tools', {}, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
