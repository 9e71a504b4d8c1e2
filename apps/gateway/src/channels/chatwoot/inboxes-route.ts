/** GET/PUT /api/v1/channels/chatwoot/inboxes: the tenant's inboxes (admin). Secrets are write-only. */
import { ChatwootInboxesPut } from '@parley/contracts';
import type { FastifyInstance } from 'fastify';
import { authGuard, principalOf } from '../../auth/guard.js';
import type { Verifier } from '../../auth/verifier.js';
import { parse, sendError } from '../../rest/errors.js';
import { doc } from '../../rest/openapi.js';
import type { InboxStore } from './inbox-store.js';

export function registerInboxRoutes(app: FastifyInstance, verifier: Verifier, store: InboxStore): void {
  const admin = { preHandler: authGuard(verifier, { admin: true }) };
  const path = '/api/v1/channels/chatwoot/inboxes';

  app.get(path, { ...admin, schema: doc('channels', "The tenant's Chatwoot inboxes (secrets only as *Set flags)") }, async (req) => ({
    inboxes: store.list(principalOf(req).tenantId),
  }));

  app.put(
    path,
    {
      ...admin,
      schema: doc('channels', 'Create or change Chatwoot inboxes; omitted secrets keep their value, null clears them', { body: ChatwootInboxesPut }),
    },
    async (req, reply) => {
      try {
        const body = parse(ChatwootInboxesPut, req.body);
        const tenantId = principalOf(req).tenantId;
        const inboxes = [];
        for (const input of Array.isArray(body) ? body : [body]) inboxes.push(await store.put(tenantId, input));
        return { inboxes };
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
