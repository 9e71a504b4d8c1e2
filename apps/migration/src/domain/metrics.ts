/**
 * Prometheus metrics of the migration loop, on the registry service-kit serves at /metrics. The due
 * backlog is read from Redis on scrape, so every replica reports the same global backlog (alert on
 * one replica's series, or on max()).
 */
import type { HotStore } from '@parley/conversation-store';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TickResult } from './loop.js';

export interface MigrationMetrics {
  observeTick(res: TickResult, seconds: number): void;
}

export function createMigrationMetrics(registry: Registry, hot: HotStore): MigrationMetrics {
  const conversations = new Counter({
    name: 'parley_migration_conversations_total',
    help: 'Conversations the loop of this process looked at, by outcome (migrated, skipped, failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const messages = new Counter({ name: 'parley_migration_messages_total', help: 'Messages moved to PostgreSQL by this process.', registers: [registry] });
  const outages = new Counter({ name: 'parley_migration_outages_total', help: 'Ticks that found PostgreSQL unreachable.', registers: [registry] });
  const tickSeconds = new Histogram({
    name: 'parley_migration_tick_seconds',
    help: 'Duration of loop ticks that picked something.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'parley_migration_due',
    help: 'Conversations due for migration now (all replicas).',
    registers: [registry],
    async collect() {
      this.set(await hot.dueCount(Date.now()));
    },
  });
  new Gauge({
    name: 'parley_migration_oldest_due_age_seconds',
    help: 'How long the oldest due conversation has waited (all replicas).',
    registers: [registry],
    async collect() {
      const oldest = await hot.oldestDue();
      const now = Date.now();
      this.set(oldest && oldest.dueAt <= now ? (now - oldest.dueAt) / 1000 : 0);
    },
  });
  return {
    observeTick(res, seconds) {
      if (res.picked === 0) return;
      conversations.inc({ outcome: 'migrated' }, res.migrated);
      conversations.inc({ outcome: 'skipped' }, res.skipped);
      conversations.inc({ outcome: 'failed' }, res.failed);
      messages.inc(res.messages);
      if (res.unavailable) outages.inc();
      tickSeconds.observe(seconds);
    },
  };
}
