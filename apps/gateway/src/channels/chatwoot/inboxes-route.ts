/** GET/PUT /api/v1/channels/chatwoot/inboxes: the tenant's inboxes (admin). Secrets are write-only. */
import { ActionError, ChatwootInboxView, ChatwootInboxesPut } from '@parley/contracts';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { authGuard, principalOf } from '../../auth/guard.js';
import type { Verifier } from '../../auth/verifier.js';
import { parse, sendError } from '../../rest/errors.js';
import { doc } from '../../rest/openapi.js';
import type { AgentDirectory } from '../../ws/agent-directory.js';
import type { InboxStore } from './inbox-store.js';

const Inboxes = z.object({ inboxes: z.array(ChatwootInboxView) });

export function registerInboxRoutes(app: FastifyInstance, verifier: Verifier, store: InboxStore, agents: AgentDirectory): void {
  const admin = { preHandler: authGuard(verifier, { admin: true }) };
  const path = '/api/v1/channels/chatwoot/inboxes';

  app.get(
    path,
    { ...admin, schema: doc('channels', "The tenant's Chatwoot inboxes (secrets only as *Set flags)", { operationId: 'listChatwootInboxes', reply: Inboxes }) },
    async (req) => ({
      inboxes: store.list(principalOf(req).tenantId),
    }),
  );

  app.put(
    path,
    {
      ...admin,
      schema: doc('channels', 'Create or change Chatwoot inboxes; omitted secrets keep their value, null clears them', {
        operationId: 'putChatwootInboxes',
        body: ChatwootInboxesPut,
        reply: Inboxes,
      }),
    },
    async (req, reply) => {
      try {
        const body = parse(ChatwootInboxesPut, req.body);
        const tenantId = principalOf(req).tenantId;
        const inputs = Array.isArray(body) ? body : [body];
        // Every inbox's agent is checked before any inbox is saved: an inbox never points at an agent that cannot answer.
        for (const input of inputs) if (input.agentId) await checkAgent(agents, tenantId, input.agentId, input);
        const inboxes = [];
        for (const input of inputs) inboxes.push(await store.put(tenantId, input));
        return { inboxes };
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}

/** An unknown, another tenant's or an archived agent makes the body invalid (400), named with the inbox. */
async function checkAgent(agents: AgentDirectory, tenantId: string, agentId: string, inbox: { accountId: number; inboxId: number }): Promise<void> {
  try {
    await agents.resolve(tenantId, agentId);
  } catch (err) {
    if (!(err instanceof ActionError) || (err.code !== 'not_found' && err.code !== 'conflict')) throw err;
    throw new ActionError('invalid_payload', `chatwoot inbox ${inbox.accountId}/${inbox.inboxId}: ${err.message}`, { details: { fields: ['agentId'] } });
  }
}
