/**
 * The request id of every HTTP request: the caller's `x-request-id` when it is a sane token, else a
 * new one. It answers on every response (`x-request-id`), sits in every error body (`requestId`) and
 * every log line of the request (`requestId`, Fastify's request logger), and rides the bus:
 *
 * - without tracing, as the envelope's `traceId` of the actions the request sends, so the services'
 *   log lines of that request carry it too;
 * - with tracing, the envelope's `traceId` stays the request span's trace id (logs and traces line
 *   up); the span carries the request id as `parley.request.id`, which joins the two.
 *
 * A new id is 32 lowercase hex characters: the form of a W3C trace id, so it is valid in either role.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '@parley/contracts';

export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

/** Fastify's `genReqId`: a caller's id is taken only when it is short and of a safe charset (it lands in logs and headers). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : newRequestId();
}
