/**
 * Which browser origins may use the gateway: the same origin always, others only when listed in
 * CORS_ORIGINS. REST gets CORS headers (and answered preflights) for listed origins; a preflight
 * from any other origin is refused with 403. Browsers do not apply CORS to WebSockets, so the
 * upgrade checks `Origin` itself. A request without `Origin` is not from a browser page and is
 * left to the token alone.
 */
import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refuse } from './rest/errors.js';

export async function registerCors(app: FastifyInstance, origins: string[]): Promise<void> {
  const listed = new Set(origins);
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (req.method !== 'OPTIONS' || !origin || !req.headers['access-control-request-method'] || listed.has(origin)) return;
    return refuse(reply, 403, {
      code: 'forbidden',
      message: `origin ${origin.slice(0, 200)} may not call this API cross-origin; the gateway allows the origins in CORS_ORIGINS`,
      retryable: false,
    });
  });
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && listed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'last-event-id', 'x-request-id', 'idempotency-key'],
    exposedHeaders: ['retry-after', 'x-request-id', 'location'],
    maxAge: 600,
  });
}

/** The WebSocket upgrade's check: no Origin (not a browser), the page's own origin, or a listed one. */
export function originAllowed(req: FastifyRequest, origins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origins.includes(origin)) return true;
  try {
    const host = req.headers.host;
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}
