/**
 * Builds the migration service from the kit runService gives it: the PostgreSQL pool, the hot
 * store, the migrator, the loop, the readiness check and the shutdown order.
 */
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { HotStore } from '@parley/conversation-store';
import { createDb, createPool } from '@parley/db/client';
import { Stage, type ServiceKit } from '@parley/service-kit';
import { DatabaseGate, describeDbError, isDatabaseUnavailable } from './domain/database.js';
import { MigrationLoop } from './domain/loop.js';
import { createMigrationMetrics } from './domain/metrics.js';
import { Migrator } from './domain/migrator.js';
import { MigrationCounters } from './domain/stats.js';
import type { CrashPoint, MigrationConfig } from './env.js';
import { migrationHandlers } from './handlers/migration.js';

export interface MigrationApp {
  handlers: Handlers<Catalog, 'migration'>;
  start(): Promise<void>;
}

export function createMigrationApp(kit: ServiceKit<MigrationConfig>): MigrationApp {
  const { config, base, log } = kit;
  if (config.crashAfter && base.mode === 'production') {
    log.fatal('MIGRATION_CRASH_AFTER is a test hook and is refused in production mode; unset it');
    process.exit(1);
  }
  const pool = createPool(base.databaseUrl, {
    max: config.pgPoolSize,
    applicationName: `parley-${base.instance}`,
    // Short: while PostgreSQL is down, a copy should fail fast and leave the conversation hot.
    connectionTimeoutMillis: 3_000,
  });
  // A socket reset while a transaction holds a client makes that client emit 'error'; pg-pool only
  // listens on idle clients, so without this an outage mid-copy would crash the process.
  pool.on('connect', (client) => client.on('error', (err) => log.debug({ reason: describeDbError(err) }, 'PostgreSQL client lost')));
  const db = createDb(pool);
  const hot = new HotStore(kit.redis, { prefix: base.busPrefix, idleMs: config.loop.idleMs });
  const gate = new DatabaseGate(pool);
  const counters = new MigrationCounters(kit.redis, hot);
  const migrator = new Migrator({ hot, db, gate, counters, leaseMs: config.leaseMs, afterStep: crashHook(config.crashAfter, log) });
  const metrics = createMigrationMetrics(kit.metrics.registry, hot);
  const loop = new MigrationLoop({ hot, migrator, counters, config: config.loop, log, metrics });

  kit.health.addCheck('postgres', () => gate.readiness());
  kit.onShutdown('migration loop', () => loop.stop(), Stage.workers);
  kit.onShutdown('postgres pool', () => pool.end().catch(() => { /* shutting down: the pool goes with the process */ }), Stage.app);

  return {
    handlers: migrationHandlers({ migrator, counters }),
    async start() {
      try {
        await gate.ensureSchema();
      } catch (err) {
        if (!isDatabaseUnavailable(err)) {
          log.fatal(String(err instanceof Error ? err.message : err));
          process.exit(1);
        }
        log.warn({ reason: describeDbError(err) }, 'PostgreSQL is not reachable at start; conversations stay in Redis until it is');
      }
      if (config.loop.enabled) loop.start();
      log.info({ loop: config.loop.enabled, ...config.loop, leaseMs: config.leaseMs }, 'migration loop configured');
    },
  };
}

/** The kill -9 test: the process dies right after `point`, with no chance to clean anything up. */
function crashHook(point: CrashPoint | undefined, log: ServiceKit<MigrationConfig>['log']): ((step: CrashPoint) => Promise<void>) | undefined {
  if (!point) return undefined;
  return async (step) => {
    if (step !== point) return;
    log.warn({ step }, 'MIGRATION_CRASH_AFTER: killing this process now');
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {}); // never continue to the next step
  };
}
