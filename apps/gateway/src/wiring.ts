/**
 * Builds the gateway from the kit runService gives it: the shared services on the kit's bus and Redis,
 * the Fastify app with every route (the public edge), the channels, and the `gateway` stream's
 * handlers. main.ts runs it with runService; tests run the same wiring in-process with startService.
 */
import websocket from '@fastify/websocket';
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { Stage, registerHealthRoutes, traceRequests, type Health, type Metrics, type ServiceKit, type StartKit } from '@parley/service-kit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerDevTokenRoute } from './auth/dev-token.js';
import { registerSignInRoutes } from './auth/sign-in-routes.js';
import { SignInStore } from './auth/sign-in-store.js';
import { registerCors } from './cors.js';
import { registerChatwoot } from './channels/chatwoot/index.js';
import { ConversationAccess, RunAccess } from './auth/access.js';
import { createVerifier } from './auth/verifier.js';
import type { GatewayContext } from './context.js';
import type { GatewayConfig } from './env.js';
import { gatewayHandlers } from './handlers/index.js';
import { createGatewayMetrics } from './metrics.js';
import { registerOpenApi } from './rest/openapi.js';
import { collectRoutes, type RouteEntry } from './route-table.js';
import { edgeErrorOptions, registerErrorShape } from './rest/fastify-errors.js';
import { requestIdOf } from './rest/request-id.js';
import { requestLogLevel } from './rest/request-log.js';
import { registerKnowledgeRoutes } from './rest/knowledge.js';
import { registerAgentRoutes } from './rest/agents.js';
import { registerMeRoutes } from './rest/me.js';
import { registerOperatorRoutes } from './rest/operator.js';
import { registerHandoffRoutes } from './rest/handoffs.js';
import { HandoffDesk } from './handoff/handoff-desk.js';
import { HandoffFeed } from './handoff/handoff-feed.js';
import { HandoffStore } from './handoff/handoff-store.js';
import { registerRunRoutes } from './rest/runs.js';
import { registerWebUi } from './web/serve-ui.js';
import { RunLogTailer } from './runs/run-log-tailer.js';
import { RunIdempotency } from './runs/run-idempotency.js';
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
  /** The `gateway` stream's handlers, every channel's deliveries. */
  handlers: Handlers<Catalog, 'gateway'>;
  /** Listens on the public port (HTTP_PORT); returns it (the one the OS picked for 0). */
  listen(): Promise<number>;
  /** Stop accepting sockets, hand runs over, close every socket with 1001, end the SSE streams. */
  drain(): Promise<void>;
}

/**
 * The gateway as runService runs it: `wire` builds it and returns its handlers (the worker starts on
 * them); `listen` opens the public port once the worker and the health server (METRICS_PORT) run.
 */
export function gatewayWiring(): {
  wire(kit: ServiceKit<GatewayConfig>): Promise<Handlers<Catalog, 'gateway'>>;
  listen(kit: StartKit<GatewayConfig>): Promise<void>;
  /** The built gateway, once `wire` ran (tests read its context and routes). */
  readonly gateway: Gateway | undefined;
} {
  let built: Gateway | undefined;
  return {
    get gateway() {
      return built;
    },
    async wire(kit) {
      built = await buildGateway(kit);
      return built.handlers;
    },
    async listen(kit) {
      if (!built) throw new Error('gateway: listen before wire');
      const gateway = built;
      const port = await gateway.listen();
      // Registered after the worker's closer, so clients hear `shutdown` before in-flight deliveries finish.
      kit.onShutdown('websockets', () => gateway.drain(), Stage.workers);
      const { base, config, log } = kit;
      if (config.auth.devTokens) log.warn('dev tokens are enabled: POST /api/v1/dev/token mints tokens for any caller on this machine (loopback only)');
      log.info({ port, metricsPort: kit.healthPort, mode: base.mode, docs: '/docs' }, `gateway listening on http://${base.http.host}:${port}`);
    },
  };
}

/** Builds the gateway without listening; what it opens closes on the kit's shutdown. */
export async function buildGateway(kit: ServiceKit<GatewayConfig>): Promise<Gateway> {
  const { base, config, log, bus, redis, metrics, health } = kit;
  const gm = createGatewayMetrics(metrics.registry);
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
    tailer: new RunLogTailer(base.redis, redis, base.busPrefix, log),
    owners,
    idempotency: new RunIdempotency(redis, base.busPrefix),
    conversations,
    runAccess: new RunAccess(bus, owners),
    runs: new RunStarter(bus, owners, conversations, gm, config.runs.timeoutMs),
    webhooks: new WebhookSender(config.webhook, log),
    agents: new AgentDirectory(bus, log),
    connections: new ConnectionRegistry(redis, base.busPrefix, config.ws.maxSocketsPerUser),
    limiter: new RateLimits(redis, base.busPrefix, { runs: config.runs.perMinute, frames: config.ws.framesPerMinute }),
    streams: new Set(),
    handoffs: new HandoffDesk(bus, conversations, new HandoffStore(redis, base.busPrefix), new HandoffFeed(redis, base.busPrefix, log)),
  };
  kit.onShutdown('run log tailer', () => ctx.tailer.close());
  kit.onShutdown('handoff feed', () => ctx.handoffs.feed.close());

  // Fastify logs the raw URL, and WS tokens travel in `?token=`: request logging is ours, without the query.
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Request ids (rest/request-id.ts): the caller's when sane, else new; `requestId` on every log line of the request.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: 1024 * 1024,
    genReqId: requestIdOf,
    requestIdHeader: false,
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
  traceRequests(app);
  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url ?? 'unmatched';
    const level = requestLogLevel(url, reply.statusCode, reply.elapsedTime);
    req.log[level]({ method: req.method, route: url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    gm.responses.inc({ route: url, status: `${Math.floor(reply.statusCode / 100)}xx` });
  });
  await registerCors(app, config.cors.origins);
  await registerOpenApi(app);
  await app.register(websocket, { options: { maxPayload: config.ws.hardMaxFrameBytes, perMessageDeflate: false } });
  const hub = new ChatHub(ctx);
  hub.register(app);
  registerDevTokenRoute(app, config.auth, base.mode);
  const signIn = await registerSignInRoutes(app, { config, mode: base.mode, verifier: ctx.verifier, store: new SignInStore(redis, base.busPrefix), log });
  kit.onShutdown('sign-in', () => signIn.close());
  registerRunRoutes(app, ctx);
  registerOperatorRoutes(app, ctx);
  registerHandoffRoutes(app, ctx);
  registerAgentRoutes(app, ctx);
  registerMeRoutes(app, ctx);
  registerKnowledgeRoutes(app, ctx);
  const chatwoot = await registerChatwoot(app, ctx, metrics.registry);
  kit.onShutdown('chatwoot', () => chatwoot.close());
  // Probes stay on the public port for load balancers; /metrics is served on METRICS_PORT only.
  registerHealthRoutes(app, health);
  await registerWebUi(app);
  await app.ready();

  let drained: Promise<void> | undefined;
  const drain = () => {
    health.setDraining();
    drained ??= hub.drain().then(() => {
      for (const end of [...ctx.streams]) end();
    });
    return drained;
  };
  // Stops listening first among the app's closers and gives in-flight requests the grace period; those
  // still waiting on the bus are answered 503 once the bus closes, and only then is the server closed.
  let appClosed: Promise<void> | undefined;
  kit.onShutdown('http server', async () => {
    await drain();
    appClosed = app.close();
    await Promise.race([appClosed, new Promise((r) => setTimeout(r, base.shutdownGraceMs).unref())]);
  });
  kit.onShutdown('http requests', () => appClosed, Stage.bus + 1);
  return {
    app,
    ctx,
    hub,
    health,
    metrics,
    routes,
    handlers: gatewayHandlers(ctx, chatwoot.send),
    async listen() {
      await app.listen({ port: base.http.port, host: base.http.host });
      const address = app.server.address();
      return typeof address === 'object' && address ? address.port : base.http.port;
    },
    drain,
  };
}
