/**
 * A SERVER span per HTTP request of a Fastify app (`<METHOD> <route>`), with the request's handler
 * running inside it, so the bus calls a route makes are its children. Hooks rather than
 * @opentelemetry/instrumentation-fastify: that one patches Fastify through module-loading hooks
 * (not applied to this ESM build) and three hooks are all it takes. WebSocket upgrades are left to
 * the socket's own spans (a turn per chat frame); probes and scrapes are left out as noise.
 *
 * An incoming `traceparent` header is not trusted: the gateway is the public edge, and a client must
 * not choose the trace its requests join. Each request starts a trace.
 */
import { SpanKind, SpanStatusCode, context, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracingEnabled } from './tracing.js';

const tracer = trace.getTracer('@parley/service-kit');
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

export function traceRequests(app: FastifyInstance): void {
  if (!tracingEnabled()) return;
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (req, _reply, done) => {
    const route = req.routeOptions.url;
    if (req.headers.upgrade?.toLowerCase() === 'websocket' || (route !== undefined && UNTRACED.has(route))) return done();
    // The path only: a query string can hold a token (`?token=` on the socket route, signed links).
    const span = tracer.startSpan(`${req.method} ${route ?? 'unmatched'}`, {
      kind: SpanKind.SERVER,
      // The request id (the gateway's x-request-id) joins the trace to the request's log lines and error body.
      attributes: { 'http.request.method': req.method, 'http.route': route ?? '', 'url.path': req.url.split('?')[0] ?? '', 'parley.request.id': req.id },
    });
    spans.set(req, span);
    done();
  });
  // Fastify calls the handler synchronously from the last preHandler's `done`, so running `done`
  // inside the span's context makes it the active span for the whole handler (body parsing is over).
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(req);
    }
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    const span = spans.get(req);
    if (span) {
      span.setAttribute('error.type', 'aborted');
      span.end();
      spans.delete(req);
    }
    done();
  });
}
