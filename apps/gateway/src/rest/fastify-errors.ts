/**
 * Fastify's own failures (unparsable or oversized bodies, unsupported media types, unknown routes,
 * anything a route let escape) answer the same ErrorBody as the routes do. A 4xx keeps Fastify's
 * message, which says what the request did wrong; anything else is a crash: `internal` + ref.
 */
import type { ErrorCode } from '@parley/contracts';
import type { FastifyError, FastifyInstance } from 'fastify';
import { sendError } from './errors.js';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'timeout',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/** Call before any route is added: a route keeps the error handler in force when it was registered. */
export function registerErrorShape(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode;
    if (status === undefined || status < 400 || status >= 500) return sendError(reply, err);
    const code = CODE_OF_STATUS[status] ?? 'invalid_payload';
    return reply.code(status).send({ code, message: err.message, retryable: status === 429 || status === 408 });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, retryable: false }));
}
