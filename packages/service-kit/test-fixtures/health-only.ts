// A process with the kit's health server and signal handling but no bus, for the shutdown test.
import { Redis } from 'ioredis';
import { Stage, createHealth, createLogger, createMetrics, createShutdown, installSignalHandlers, startHealthServer } from '../src/index.js';

const log = createLogger({ service: 'fixture', instance: 'fixture-1' });
const shutdown = createShutdown(log, { hardTimeoutMs: 5_000 });
installSignalHandlers(shutdown, log);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const health = createHealth();
health.addCheck('redis', async () => void (await redis.ping()));
const metrics = createMetrics({ service: 'fixture', instance: 'fixture-1' });
const server = await startHealthServer({ port: 0, host: '127.0.0.1', health, registry: metrics.registry });
shutdown.onShutdown('slow app closer', () => new Promise((r) => setTimeout(r, 200)).then(() => log.info('app closed')));
shutdown.onShutdown('redis', async () => void (await redis.quit()), Stage.infra);
shutdown.onShutdown('health', () => server.close(), Stage.infra);
log.info({ httpPort: server.port }, 'ready');
