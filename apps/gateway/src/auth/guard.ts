import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActionMeta } from '@parley/bus';
import { REQUEST_ID_PATTERN } from '@parley/contracts';
import { refuse } from '../rest/errors.js';
import { tokenOf } from './token.js';
import { isStaff } from './access.js';
import { AuthError, AuthMessage, isAdmin, type Principal, type Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** preHandler for REST routes: 401 without a valid token, 403 without the admin role (or a staff role: admin, operator) when asked. */
export function authGuard(verifier: Verifier, opts: { admin?: boolean; staff?: boolean } = {}) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      req.principal = await verifier.verify(tokenOf(req));
    } catch (err) {
      const reason = err instanceof AuthError ? err.reason : 'invalid';
      const message = err instanceof AuthError ? err.message : AuthMessage.invalid;
      // `details.reason` lets a client word it (expired: sign in again; invalid: this token is not ours).
      return refuse(reply.header('www-authenticate', 'Bearer'), 401, { code: 'unauthorized', message, retryable: false, details: { reason } });
    }
    if (opts.admin && !isAdmin(req.principal)) {
      return refuse(reply, 403, { code: 'forbidden', message: 'this route needs the admin role', retryable: false });
    }
    if (opts.staff && !isStaff(req.principal)) {
      return refuse(reply, 403, { code: 'forbidden', message: 'this route needs the operator or admin role', retryable: false });
    }
  };
}

export function principalOf(req: FastifyRequest): Principal {
  // Only reachable behind authGuard; a missing principal is a wiring bug, not a client error.
  if (!req.principal) throw new Error('route is missing authGuard');
  return req.principal;
}

/**
 * The bus meta of an action a route sends for its caller: tenant, user, and the request id as
 * the trace id (rest/request-id.ts: a trace context, when there is one, takes precedence in the bus).
 */
export function callerMeta(req: FastifyRequest): ActionMeta {
  const p = principalOf(req);
  const meta: ActionMeta = { tenantId: p.tenantId, userId: p.userId };
  if (REQUEST_ID_PATTERN.test(req.id)) meta.traceId = req.id;
  return meta;
}
