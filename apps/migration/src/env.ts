/**
 * The migration service's configuration: the only place it reads `process.env` (through defineEnv).
 */
import { DEFAULT_IDLE_MS } from '@parley/conversation-store';
import { defineEnv, envBool, envInt, type EnvOf } from '@parley/service-kit';
import { z } from 'zod';

/** Test-only: the step after which the process SIGKILLs itself, to prove a crash there loses nothing. */
export const CrashPoint = z.enum(['lease', 'snapshot', 'copy', 'delete']);
export type CrashPoint = z.infer<typeof CrashPoint>;

const positive = (defaultValue: number) => z.coerce.number().int().positive().default(defaultValue);

const shape = {
  MIGRATION_LOOP: envBool(true),
  MIGRATION_INTERVAL_MS: positive(1_000),
  MIGRATION_IDLE_MS: envInt(DEFAULT_IDLE_MS),
  MIGRATION_BATCH_SIZE: positive(500),
  MIGRATION_CONCURRENCY: positive(8),
  MIGRATION_GROUP_SIZE: positive(20),
  MIGRATION_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  MIGRATION_BACKOFF_MS: positive(500),
  MIGRATION_BACKOFF_MAX_MS: positive(30_000),
  MIGRATION_PG_POOL_SIZE: positive(10),
  MIGRATION_CRASH_AFTER: CrashPoint.optional(),
};

function group(e: EnvOf<typeof shape>) {
  return {
    loop: {
      enabled: e.MIGRATION_LOOP,
      intervalMs: e.MIGRATION_INTERVAL_MS,
      idleMs: e.MIGRATION_IDLE_MS,
      batchSize: e.MIGRATION_BATCH_SIZE,
      concurrency: e.MIGRATION_CONCURRENCY,
      groupSize: e.MIGRATION_GROUP_SIZE,
      backoffMs: e.MIGRATION_BACKOFF_MS,
      backoffMaxMs: Math.max(e.MIGRATION_BACKOFF_MAX_MS, e.MIGRATION_BACKOFF_MS),
    },
    leaseMs: e.MIGRATION_LEASE_MS,
    // One connection per group in flight, plus one so /readyz and archive look-ups never queue behind copies.
    pgPoolSize: Math.max(e.MIGRATION_PG_POOL_SIZE, e.MIGRATION_CONCURRENCY + 1),
    crashAfter: e.MIGRATION_CRASH_AFTER,
  };
}

export type MigrationConfig = ReturnType<typeof group>;
export type LoopConfig = MigrationConfig['loop'];

/** The crash hook kills the process on purpose: never in production. */
export const env = defineEnv(shape, group, (c, base) =>
  c.crashAfter && base.mode === 'production' ? ['MIGRATION_CRASH_AFTER: is a test hook and is refused in production mode; unset it'] : [],
);
