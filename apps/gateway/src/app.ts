/**
 * Builds the gateway from its configuration: connections, shared services, the Fastify app with
 * every route. `main.ts` only adds signals; tests build several of these in one process.
 */
import websocket from '@fastify/websocket';
import { createBus, type Handlers } from '@parley/bus';
import { catalog, type Catalog } from '@parley/contracts';
import { createHealth, createMetrics, registerHealthRoutes, safeUrl, startHealthServer, type BaseConfig, type Health, type HealthServer, type Metrics } from '@parley/service-kit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { registerDevTokenRoute } from './auth/dev-token.js';
import { registerCors } from './cors.js';
import { registerChatwoot } from './channels/chatwoot/index.js';
import { webhookHandlers } from './channels/webhook/index.js';
import { ConversationAccess, RunAccess } from './auth/access.js';
import { createVerifier } from './auth/verifier.js';
import type { GatewayContext } from './context.js';
import type { GatewayConfig } from './env.js';
import { createGatewayMetrics } from './metrics.js';
import { registerOpenApi } from './rest/openapi.js';
import { collectRoutes, type RouteEntry } from './route-table.js';
import { edgeErrorOptions, registerErrorShape } from './rest/fastify-errors.js';
import { registerKnowledgeRoutes } from './rest/knowledge.js';
import { registerOperatorRoutes } from './rest/operator.js';
import { registerRunRoutes } from './rest/runs.js';
import { registerWebUi } from './web/serve-ui.js';
import { RunLogTailer } from './runs/run-log-tailer.js';
import { RunOwners } from './runs/run-owners.js';
import { RunStarter } from './runs/run-starter.js';
import { WebhookSender } from './runs/webhook.js';
import { AgentDirectory } from './ws/agent-directory.js';
import { ChatHub } from './ws/chat-route.js';
import { ConnectionRegistry } from './ws/connection-registry.js';
import { RateLimits } from './ws/rate-limit.js';

export interface Gateway {
  app: FastifyInstance;
  ctx: GatewayContext;
  hub: ChatHub;
  health: Health;
  metrics: Metrics;
  /** Every registered route (method + path), for the authorization matrix test. */
  routes: readonly RouteEntry[];
  /** Listens on the public port (returned) and on the internal metrics port. */
  listen(): Promise<number>;
  /** The internal port serving /metrics, /healthz, /readyz; null before listen(). */
  readonly metricsPort: number | null;
  /** Stop accepting sockets, hand runs over, close every socket with 1001. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function createGateway(opts: { base: BaseConfig; config: GatewayConfig; log: Logger }): Promise<Gateway> {
  const { base, config, log } = opts;
  const redis = await connectRedis(base, log);
  const metrics = createMetrics({ service: base.service, instance: base.instance });
  const gm = createGatewayMetrics(metrics.registry);
  const bus = createBus({ catalog, service: 'gateway', redis: base.redisUrl, prefix: base.busPrefix, instance: base.instance, logger: log, hooks: metrics.busHooks });
  const owners = new RunOwners(redis, base.busPrefix);
  const conversations = new ConversationAccess(bus);
  const ctx: GatewayContext = {
    base,
    config,
    log,
    bus,
    redis,
    verifier: await createVerifier(config.auth),
    metrics: gm,
    tailer: new RunLogTailer(base.redisUrl, redis, base.busPrefix, log),
    owners,
    conversations,
    runAccess: new RunAccess(bus, owners),
    runs: new RunStarter(bus, owners, conversations, gm, config.runs.timeoutMs),
    webhooks: new WebhookSender(config.webhook, log),
    agents: new AgentDirectory(bus, log),
    connections: new ConnectionRegistry(redis, base.busPrefix, config.ws.maxSocketsPerUser),
    limiter: new RateLimits(redis, base.busPrefix, { runs: config.runs.perMinute, frames: config.ws.framesPerMinute }),
    streams: new Set(),
  };

  const health = createHealth();
  health.addCheck('redis', async () => {
    await redis.ping();
  });
  health.addCheck('bus', () => (bus.isConnected() ? undefined : 'bus connection to Redis is not ready'));

  // Fastify logs the raw URL, and WS tokens travel in `?token=`: request logging is ours, without the query.
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    ...edgeErrorOptions,
  });
  const routes = collectRoutes(app);
  app.decorateRequest('principal', null);
  // POST /runs/:id/cancel and friends have no body; clients often still send a JSON content type.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  registerErrorShape(app);
  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url ?? 'unmatched';
    const quiet = url === '/healthz' || url === '/readyz' || url === '/metrics';
    log[quiet ? 'debug' : 'info']({ method: req.method, route: url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  await registerCors(app, config.cors.origins);
  await registerOpenApi(app);
  await app.register(websocket, { options: { maxPayload: config.ws.hardMaxFrameBytes, perMessageDeflate: false } });
  const hub = new ChatHub(ctx);
  hub.register(app);
  registerDevTokenRoute(app, config.auth, base.mode);
  registerRunRoutes(app, ctx);
  registerOperatorRoutes(app, ctx);
  registerKnowledgeRoutes(app, ctx);
  const chatwoot = await registerChatwoot(app, ctx, metrics.registry);
  // One worker consumes the gateway stream, so it needs every channel's handlers at once.
  bus.handle('gateway', { ...chatwoot.handlers, ...webhookHandlers(ctx) } satisfies Handlers<Catalog, 'gateway'>);
  // Probes stay on the public port for load balancers; /metrics is served on METRICS_PORT only.
  registerHealthRoutes(app, health);
  await registerWebUi(app);
  await app.ready();

  let metricsServer: HealthServer | undefined;
  let drained: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const drain = () => {
    health.setDraining();
    drained ??= hub.drain().then(() => {
      for (const end of [...ctx.streams]) end();
    });
    return drained;
  };
  return {
    app,
    ctx,
    hub,
    health,
    metrics,
    get metricsPort() {
      return metricsServer?.port ?? null;
    },
    routes,
    async listen() {
      await app.listen({ port: base.http.port, host: base.http.host });
      metricsServer = await startHealthServer({ port: config.metrics.port, host: base.http.host, health, registry: metrics.registry });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : base.http.port;
    },
    drain,
    close() {
      closed ??= (async () => {
        await drain();
        // Requests waiting on the bus get the grace period; then closing the bus answers them 503.
        const appClosed = app.close();
        await Promise.race([appClosed, new Promise((r) => setTimeout(r, base.shutdownGraceMs).unref())]);
        await ctx.tailer.close();
        await bus.close(base.shutdownGraceMs);
        await chatwoot.close();
        await appClosed;
        await redis.quit().catch(() => redis.disconnect());
        await metricsServer?.close();
      })();
      return closed;
    },
  };
}

async function connectRedis(base: BaseConfig, log: Logger): Promise<Redis> {
  const redis = new Redis(base.redisUrl, { lazyConnect: true, connectionName: `${base.instance}:gateway`, maxRetriesPerRequest: 2 });
  redis.on('error', () => {}); // readiness reports the state; ioredis reconnects
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = err instanceof Error ? err.message : String(err);
    log.fatal(`REDIS_URL ${safeUrl(base.redisUrl)} is not reachable (${why}); start Redis or set REDIS_URL`);
    throw new Error(`REDIS_URL ${safeUrl(base.redisUrl)} is not reachable (${why})`, { cause: err });
  }
}
