/** The gateway process: configuration, logger, signals. Everything else is in app.ts. */
import { Stage, createLogger, createShutdown, installSignalHandlers, loadEnv } from '@parley/service-kit';
import { createGateway } from './app.js';
import { configProblems, gatewayEnv } from './env.js';

const { base, config } = loadEnv(gatewayEnv, 'gateway');
const problems = configProblems(config, base.mode);
if (problems.length > 0) {
  process.stderr.write(`gateway: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`);
  for (const p of problems) process.stderr.write(`  ${p}\n`);
  process.exit(1);
}
const log = createLogger({ service: base.service, instance: base.instance, level: base.logLevel });
process.on('unhandledRejection', (err) => {
  log.fatal({ err }, 'unhandled promise rejection; exiting');
  process.exit(1);
});

const gateway = await createGateway({ base, config, log }).catch(() => process.exit(1));
const shutdown = createShutdown(log, { hardTimeoutMs: base.shutdownGraceMs + 5_000 });
shutdown.onShutdown('websockets', () => gateway.drain(), Stage.workers);
shutdown.onShutdown('gateway', () => gateway.close(), Stage.app);
installSignalHandlers(shutdown, log);

const port = await gateway.listen();
if (config.auth.devTokens) log.warn('dev tokens are enabled: POST /api/v1/dev/token mints tokens for any caller on this machine (loopback only)');
log.info({ port, metricsPort: gateway.metricsPort, mode: base.mode, docs: `/docs` }, `gateway listening on http://${base.http.host}:${port}`);
