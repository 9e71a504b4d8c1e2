/** Every route the gateway registers, as Fastify announces them: what the authorization matrix test walks. */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
  websocket: boolean;
}

/** Call before any route is registered (plugins included): onRoute only sees routes added after it. */
export function collectRoutes(app: FastifyInstance): readonly RouteEntry[] {
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (r) => {
    for (const method of Array.isArray(r.method) ? r.method : [r.method]) routes.push({ method, url: r.url, websocket: r.websocket === true });
  });
  return routes;
}
