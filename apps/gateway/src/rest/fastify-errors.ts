/**
 * Fastify's own failures (unparsable or oversized bodies, unsupported media types, unknown routes,
 * anything a route let escape) answer the same ErrorBody as the routes do. A 4xx keeps Fastify's
 * message, which says what the request did wrong; anything else is a crash: `internal` + ref.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { REQUEST_ID_HEADER, type ErrorBody, type ErrorCode } from '@parley/contracts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refuse, restError, sendError } from './errors.js';
import { newRequestId } from './request-id.js';

const CODE_OF_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'timeout',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
};

function bodyOf(status: number, message: string): ErrorBody {
  return { code: CODE_OF_STATUS[status] ?? 'invalid_payload', message, retryable: status === 429 || status === 408 };
}

/**
 * Constructor options for what fails before routing: a URL that does not decode (FST_ERR_BAD_URL)
 * and requests Node's parser refuses (headers too large, malformed HTTP), answered on the raw socket.
 */
export const edgeErrorOptions = {
  frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
    // Before routing, so the onRequest hook that names the response did not run.
    void reply.header(REQUEST_ID_HEADER, req.id);
    void refuse(reply, status, bodyOf(status, err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid (it does not decode as UTF-8)' : err.message));
  },
  clientErrorHandler(err: Error & { code?: string }, socket: Socket) {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    // No request was parsed: the id is made here, and only this answer carries it.
    const requestId = newRequestId();
    const json = JSON.stringify(
      restError(
        bodyOf(
          status,
          status === 431
            ? 'the request line and headers are too large'
            : status === 408
              ? 'the request took too long to arrive'
              : 'the request is not valid HTTP',
        ),
        requestId,
      ),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(json)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\nconnection: close\r\n\r\n${json}`,
    );
  },
};

/** Call before any route is added: a route keeps the error handler in force when it was registered. */
export function registerErrorShape(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode;
    if (status === undefined || status < 400 || status >= 500) return sendError(reply, err);
    return refuse(reply, status, bodyOf(status, err.message));
  });
  app.setNotFoundHandler((req, reply) =>
    refuse(reply, 404, { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}`, retryable: false }),
  );
  // First of the onRequest hooks, so refusals of later ones (CORS, auth) carry it too.
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
    done();
  });
}
