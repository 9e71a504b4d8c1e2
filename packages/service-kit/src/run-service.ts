/**
 * `runService`: everything a service's `main.ts` would otherwise repeat — config, logger, metrics,
 * Redis, the bus and its worker, health server, signals — so `main.ts` is wiring only.
 */
import { createBus, isClusterTarget, kitConnection, type Bus, type Handlers, type RedisClient, type WorkerHandle, type WorkerOptions } from '@parley/bus';
import { catalog, type Catalog, type Service } from '@parley/contracts';
import type { Logger } from 'pino';
import { loadEnv, safeUrl, type BaseConfig, type EnvDefinition } from './env.js';
import { createHealth, startHealthServer, type Health } from './health.js';
import { createLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { Stage, createShutdown, installSignalHandlers, type Closer, type Shutdown } from './shutdown.js';
import { installTracing } from './tracing.js';

/** What a service's setup code gets. */
export interface ServiceKit<C> {
  base: BaseConfig;
  config: C;
  log: Logger;
  bus: Bus<Catalog>;
  /** The kit's own Redis connection (health ping, lag); services may use it for ordinary commands. */
  redis: RedisClient;
  metrics: Metrics;
  health: Health;
  /** Closes `closer` on shutdown, after the workers stopped (stage `app` unless told otherwise). */
  onShutdown(name: string, closer: Closer, stage?: number): void;
}

export interface ServiceDefinition<C, S extends Service> {
  /** Default SERVICE_NAME, and the name in the `invalid configuration` message. */
  name: string;
  env: EnvDefinition<C>;
  /** The bus service whose stream this process consumes, e.g. `agent` for apps/agent-execution. */
  service?: S;
  /** Every action type of `service` (a missing one is a compile error), or a function that builds them. */
  handlers?: Handlers<Catalog, S> | ((kit: ServiceKit<C>) => Handlers<Catalog, S> | Promise<Handlers<Catalog, S>>);
  /** Worker options, or a function of the parsed config (e.g. `(c) => ({ concurrency: c.worker.concurrency })`). */
  worker?: WorkerOptions | ((config: C) => WorkerOptions);
  /**
   * Starts what the service runs beside its handlers (an HTTP API, a loop). Runs after the worker and
   * the health server started, so it can name the health server's port in its own log line.
   */
  start?(kit: StartKit<C>): void | Promise<void>;
  /** false when the service has no health server of its own at all. */
  healthServer?: boolean;
  /**
   * The health server's port when HTTP_PORT belongs to the service's own server (the gateway's public
   * API: its /metrics is on METRICS_PORT). Default: HTTP_PORT.
   */
  healthPort?: (config: C) => number;
  /** A worker loop silent for longer than this makes /readyz fail. */
  loopStaleMs?: number;
}

/** What `start` gets: the kit, and where the health server listens. */
export interface StartKit<C> extends ServiceKit<C> {
  /** The health server's port (the one the OS picked for 0); null without one. */
  healthPort: number | null;
}

export interface RunningService<C> extends ServiceKit<C> {
  /** The health server's port (HTTP_PORT or `healthPort`, or the one the OS picked for 0); null without one. */
  httpPort: number | null;
  worker: WorkerHandle | null;
  /** What SIGTERM does, callable from tests. */
  stop(reason?: string): Promise<void>;
}

/** A service's process: config from process.env, signals, exit 1 on a failed start, then `startService`. */
export async function runService<C, S extends Service>(def: ServiceDefinition<C, S>): Promise<RunningService<C>> {
  const { base, config } = loadEnv(def.env, def.name);
  const log = createLogger({ service: base.service, instance: base.instance, level: base.logLevel });
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled promise rejection; exiting');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(1);
  });

  const shutdown = createShutdown(log, { hardTimeoutMs: base.shutdownGraceMs + 5_000 });
  installSignalHandlers(shutdown, log);
  // Before anything is wired, so stores and routes see tracing on; last to close, so the spans of the
  // shutdown itself are exported. In-process tests (startService) install their own.
  const tracing = installTracing({ service: base.service, instance: base.instance, tracesUrl: base.tracing.tracesUrl, log });
  shutdown.onShutdown('tracing', () => tracing.shutdown(), Stage.infra + 1);
  if (base.tracing.tracesUrl) log.info({ tracesUrl: safeUrl(base.tracing.tracesUrl) }, 'tracing on: spans go to OTLP/HTTP');
  try {
    return await startService(def, { base, config, log, shutdown });
  } catch {
    process.exit(1); // startService logged the one fatal line and closed what it had opened
  }
}

/**
 * Everything `runService` does except the process's part (reading process.env, signals, exiting):
 * tests run a service in-process with it, several in one process. A failed start logs one fatal
 * line, closes what was opened so far and throws.
 */
export async function startService<C, S extends Service>(
  def: ServiceDefinition<C, S>,
  opts: { base: BaseConfig; config: C; log: Logger; shutdown?: Shutdown },
): Promise<RunningService<C>> {
  const { base, config, log } = opts;
  const shutdown = opts.shutdown ?? createShutdown(log);
  const metrics = createMetrics({ service: base.service, instance: base.instance }, { eventLoopResolutionMs: base.metrics.eventLoopResolutionMs });
  const health = createHealth();

  const redis = await connectRedis(base, log);
  try {
    return await wire(def, { base, config, log, redis, metrics, health, shutdown });
  } catch (err) {
    // A handler factory or start() that throws (database down, bad flow) must not leave connections open.
    // The reason is in the message itself, so the one fatal line says what to do (e.g. run db:migrate).
    log.fatal({ err }, `failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown.run('startup failed');
    throw err;
  }
}

async function wire<C, S extends Service>(
  def: ServiceDefinition<C, S>,
  deps: { base: BaseConfig; config: C; log: Logger; redis: RedisClient; metrics: Metrics; health: Health; shutdown: Shutdown },
): Promise<RunningService<C>> {
  const { base, config, log, redis, metrics, health, shutdown } = deps;
  shutdown.onShutdown('redis', () => quietly(redis.quit()), Stage.infra);
  health.addCheck('redis', async () => {
    await redis.ping();
  });

  const bus = createBus({
    catalog,
    service: def.service ?? base.service,
    redis: base.redis,
    prefix: base.busPrefix,
    instance: base.instance,
    logger: log,
    hooks: metrics.busHooks,
  });
  shutdown.onShutdown('bus', () => bus.close(base.shutdownGraceMs), Stage.bus);
  health.addCheck('bus', () => (bus.isConnected() ? undefined : 'bus connection to Redis is not ready'));

  const kit: ServiceKit<C> = {
    base,
    config,
    log,
    bus,
    redis,
    metrics,
    health,
    onShutdown: (name, closer, stage) => shutdown.onShutdown(name, closer, stage),
  };
  // Stops being ready first, so traffic drains while the closers run.
  shutdown.onShutdown('readiness', () => health.setDraining(), Stage.workers - 1);

  let worker: WorkerHandle | null = null;
  if (def.handlers) {
    if (!def.service) throw new Error(`runService(${def.name}): handlers need \`service\` (the bus service to consume)`);
    const handlers = typeof def.handlers === 'function' ? await def.handlers(kit) : def.handlers;
    const workerOptions = typeof def.worker === 'function' ? def.worker(config) : def.worker;
    const w = bus.handle(def.service, handlers, { graceMs: base.shutdownGraceMs, ...workerOptions });
    worker = w;
    shutdown.onShutdown('worker', () => w.stop(base.shutdownGraceMs), Stage.workers);
    metrics.watchConsumerGroup(redis, base.busPrefix, def.service);
    const staleMs = def.loopStaleMs ?? 30_000;
    health.addCheck('worker', () => {
      const idle = Date.now() - w.lastLoopAt();
      return idle > staleMs ? `worker loop silent for ${idle} ms` : undefined;
    });
  }

  let httpPort: number | null = null;
  if (def.healthServer !== false) {
    const port = def.healthPort ? def.healthPort(config) : base.http.port;
    const server = await startHealthServer({ port, host: base.http.host, health, registry: metrics.registry });
    httpPort = server.port;
    shutdown.onShutdown('health server', () => server.close(), Stage.infra);
  }

  if (def.start) await def.start({ ...kit, healthPort: httpPort });

  log.info({ httpPort, service: base.service, consumes: def.service ?? null, mode: base.mode }, 'ready');
  return { ...kit, httpPort, worker, stop: (reason = 'stop()') => shutdown.run(reason) };
}

/** Fails fast with one line a human can act on, instead of a service that retries silently forever. */
async function connectRedis(base: BaseConfig, log: Logger): Promise<RedisClient> {
  const redis = kitConnection(base.redis, `${base.instance}:kit`);
  redis.on('error', () => {}); // reconnects are logged by the bus; readiness reports the state
  try {
    await withTimeout(redis.connect(), 5_000);
    await withTimeout(redis.ping(), 5_000);
    return redis;
  } catch (err) {
    redis.disconnect();
    const why = err instanceof Error ? err.message : String(err);
    const message = isClusterTarget(base.redis)
      ? `REDIS_CLUSTER_NODES ${base.redis.cluster.map((n) => `${n.host}:${n.port}`).join(',')} is not reachable (${why}); start the cluster or fix REDIS_CLUSTER_NODES`
      : `REDIS_URL ${safeUrl(base.redisUrl)} is not reachable (${why}); start Redis or set REDIS_URL`;
    log.fatal(message);
    throw new Error(message, { cause: err });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function quietly(p: Promise<unknown>): Promise<void> {
  await p.catch(() => {
    /* shutdown goes on whatever one step reports */
  });
}
