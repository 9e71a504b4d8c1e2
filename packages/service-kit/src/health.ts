/**
 * Liveness, readiness and metrics over HTTP. `/healthz` says the process answers at all (restart me
 * if not); `/readyz` says it can do its job now (send me work); `/metrics` is for Prometheus.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** Resolves (or returns a string reason / throws) to say whether one dependency is usable. */
export type ReadinessCheck = () => Promise<void | string> | void | string;

export interface Health {
  addCheck(name: string, check: ReadinessCheck): void;
  /** During shutdown: readiness fails at once so load balancers stop routing before work stops. */
  setDraining(): void;
  isDraining(): boolean;
  check(): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

export function createHealth(opts: { checkTimeoutMs?: number } = {}): Health {
  const checks = new Map<string, ReadinessCheck>();
  const timeoutMs = opts.checkTimeoutMs ?? 2_000;
  let draining = false;
  return {
    addCheck(name, check) {
      checks.set(name, check);
    },
    setDraining() {
      draining = true;
    },
    isDraining: () => draining,
    async check() {
      const results: Record<string, string> = {};
      results.shutdown = draining ? 'shutting down' : 'ok';
      await Promise.all(
        [...checks].map(async ([name, check]) => {
          results[name] = await runCheck(check, timeoutMs);
        }),
      );
      return { ready: Object.values(results).every((r) => r === 'ok'), checks: results };
    },
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    const outcome = await Promise.race([Promise.resolve().then(check), timeout]);
    return typeof outcome === 'string' ? outcome : 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Mounts the routes on any Fastify app. Without `registry` there is no `/metrics`: the gateway
 * answers probes on its public port but serves metrics only on its internal health server.
 */
export function registerHealthRoutes(app: FastifyInstance, health: Health, registry?: Registry): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const { ready, checks } = await health.check();
    const reasons = Object.entries(checks)
      .filter(([, r]) => r !== 'ok')
      .map(([name, r]) => `${name}: ${r}`);
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready', checks } : { status: 'not_ready', reasons, checks });
  });
  if (!registry) return;
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).send(body);
  });
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: { port: number; host: string; health: Health; registry: Registry }): Promise<HealthServer> {
  // Probes every few seconds would drown the service's own log lines; errors still surface as 5xx.
  const app = Fastify({ logger: false });
  registerHealthRoutes(app, opts.health, opts.registry);
  await app.listen({ port: opts.port, host: opts.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return { port, close: () => app.close() };
}
