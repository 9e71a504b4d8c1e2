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

export type Requirement = 'user' | 'staff' | 'admin';
const REQUIRES = Symbol('parley.authGuard.requires');

/** preHandler for REST routes: 401 without a valid token, 403 without the admin role (or a staff role: admin, operator) when asked. */
export function authGuard(verifier: Verifier, opts: { admin?: boolean; staff?: boolean } = {}) {
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
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
  // What the OpenAPI document reads (requirementOf): the guard itself says what it requires, so the docs cannot drift from it.
  return Object.assign(guard, { [REQUIRES]: opts.admin ? 'admin' : opts.staff ? 'staff' : 'user' } satisfies Record<typeof REQUIRES, Requirement>);
}

/** The role a route's preHandler(s) require, when one of them is an authGuard; undefined for a public route. */
export function requirementOf(preHandler: unknown): Requirement | undefined {
  for (const h of Array.isArray(preHandler) ? preHandler : [preHandler]) {
    if (typeof h === 'function' && REQUIRES in h) return (h as unknown as Record<typeof REQUIRES, Requirement>)[REQUIRES];
  }
  return undefined;
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
