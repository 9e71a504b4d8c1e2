import type { FastifyReply, FastifyRequest } from 'fastify';
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
      return reply.code(401).header('www-authenticate', 'Bearer').send({ code: 'unauthorized', message, retryable: false, details: { reason } });
    }
    if (opts.admin && !isAdmin(req.principal)) {
      return reply.code(403).send({ code: 'forbidden', message: 'this route needs the admin role', retryable: false });
    }
    if (opts.staff && !isStaff(req.principal)) {
      return reply.code(403).send({ code: 'forbidden', message: 'this route needs the operator or admin role', retryable: false });
    }
  };
}

export function principalOf(req: FastifyRequest): Principal {
  // Only reachable behind authGuard; a missing principal is a wiring bug, not a client error.
  if (!req.principal) throw new Error('route is missing authGuard');
  return req.principal;
}
