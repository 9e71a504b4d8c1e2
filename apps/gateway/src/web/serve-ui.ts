/**
 * Serves the web UI (apps/web/dist, built by Vite) at `/`. Files are looked up per request, so a
 * UI built after the gateway started is served without a restart. When the UI is not built yet,
 * `/` says how to build it instead of answering a bare 404.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

// Same relative place from src/web (tsx) and dist/web (compiled): apps/gateway/*/web → apps/web/dist.
const DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

// Model output is rendered by the UI as text, never HTML; this policy is the second line of defence:
// no inline or foreign script can run even if a rendering bug let markup through.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export async function registerWebUi(app: FastifyInstance, dist = DIST): Promise<void> {
  if (!existsSync(`${dist}index.html`)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Parley</title><p>The web UI is not built. Run <code>npm run build:web</code> (or <code>npm start</code>, which builds it when missing), then reload.</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    // swagger-ui registers @fastify/static too; the reply decorators exist once.
    decorateReply: false,
    index: ['index.html'],
    schemaHide: true,
    setHeaders(reply, path) {
      if (path.endsWith('.html')) {
        reply.header('cache-control', 'no-cache');
        reply.header('content-security-policy', CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'no-referrer');
      } else if (path.includes('/assets/')) {
        // Vite puts a content hash in every asset name.
        reply.header('cache-control', 'public, max-age=31536000, immutable');
      }
    },
  });
}
