import { ActionError } from '@parley/contracts';
import type { FastifyReply } from 'fastify';
import { sendError } from './errors.js';

/** 429 with `Retry-After` in whole seconds (HTTP's unit) and the exact wait in `details.retryAfterMs`. */
export function sendRateLimited(reply: FastifyReply, what: string, retryAfterMs: number): FastifyReply {
  reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return sendError(reply, new ActionError('rate_limited', `too many ${what}; retry in ${retryAfterMs} ms`, { retryable: true, details: { retryAfterMs } }));
}
