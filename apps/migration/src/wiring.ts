/**
 * Builds the migration service from the kit runService gives it: the database (opened even while
 * PostgreSQL is down: conversations then stay hot until it is back), the hot store, the migrator,
 * the loop, the readiness check and the shutdown order.
 */
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { HotStore } from '@parley/conversation-store';
import { describeDbError, openDatabase } from '@parley/db';
import { Stage, type ServiceKit } from '@parley/service-kit';
import { MigrationLoop } from './domain/loop.js';
import { createMigrationMetrics } from './domain/metrics.js';
import { Migrator } from './domain/migrator.js';
import { MigrationCounters } from './stores/migration-counters.js';
import type { CrashPoint, MigrationConfig } from './env.js';
import { migrationHandlers } from './handlers/migration.js';

export async function wire(kit: ServiceKit<MigrationConfig>): Promise<Handlers<Catalog, 'migration'>> {
  const { config, base, log } = kit;
  const database = await openDatabase(base.databaseUrl, {
    max: config.pgPoolSize,
    applicationName: `parley-${base.instance}`,
    // Short: while PostgreSQL is down, a copy should fail fast and leave the conversation hot.
    connectionTimeoutMillis: 3_000,
    whenUnreachable: 'wait',
  });
  kit.onShutdown('postgres pool', () => database.close(), Stage.app);
  if (!database.schemaChecked) log.warn('PostgreSQL is not reachable at start; conversations stay in Redis until it is');
  // A socket reset while a transaction holds a client makes that client emit 'error' (the pool already
  // keeps it from crashing the process); logged so an outage mid-copy leaves a trace.
  database.pool.on('connect', (client) => client.on('error', (err) => log.debug({ reason: describeDbError(err) }, 'PostgreSQL client lost')));

  const hot = new HotStore(kit.redis, { prefix: base.busPrefix, idleMs: config.loop.idleMs });
  const counters = new MigrationCounters(kit.redis, hot);
  const migrator = new Migrator({ hot, db: database.db, schema: database, counters, leaseMs: config.leaseMs, afterStep: crashHook(config.crashAfter, log) });
  const metrics = createMigrationMetrics(kit.metrics.registry, hot);
  const loop = new MigrationLoop({ hot, migrator, counters, config: config.loop, log, metrics });

  kit.health.addCheck('postgres', async () => {
    const why = await database.readiness();
    return why && `${why}; conversations stay in Redis and migration retries with backoff`;
  });
  kit.onShutdown('migration loop', () => loop.stop(), Stage.workers);
  if (config.loop.enabled) loop.start();
  log.info({ loop: config.loop.enabled, ...config.loop, leaseMs: config.leaseMs }, 'migration loop configured');
  return migrationHandlers({ migrator, counters });
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
