/**
 * Prometheus metrics of one process: a registry of its own (never prom-client's global one, so two
 * services in one test process do not collide), the bus hooks, and consumer lag read on scrape.
 */
import type { BusHooks, Outcome, RedisClient } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { watchGcPauses } from './gc-pauses.js';

// From sub-millisecond bus hops to minute-long agent runs.
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface Metrics {
  registry: Registry;
  /** Pass to `createBus({ hooks })`. */
  busHooks: Required<BusHooks>;
  /** Reports lag and pending of the service's consumer group, and its dead-letter stream's length, on every scrape. */
  watchConsumerGroup(redis: RedisClient, prefix: string, service: string): void;
}

export interface MetricsOptions {
  /** prom-client's Node metrics (`process_*`, `nodejs_*`) and the GC pause counters; default on. */
  defaultMetrics?: boolean;
  /** Sampling interval of the event-loop delay monitor (METRICS_EVENT_LOOP_RESOLUTION_MS); default prom-client's 10. */
  eventLoopResolutionMs?: number;
}

export function createMetrics(labels: { service: string; instance: string }, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  if (opts.defaultMetrics !== false) {
    // nodejs_eventloop_lag_{p50,p99,max,…}_seconds cover the time since the previous scrape: each scrape resets the monitor.
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: opts.eventLoopResolutionMs ?? 10 });
    watchGcPauses(registry);
  }

  const handled = new Counter({
    name: 'parley_actions_handled_total',
    help: 'Actions handled by this process, by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const handlerSeconds = new Histogram({
    name: 'parley_action_handler_seconds',
    help: 'Handler latency, from dequeue to reply, by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const callSeconds = new Histogram({
    name: 'parley_bus_call_seconds',
    help: 'bus.call round trips made by this process, by type and outcome.',
    labelNames: ['type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'parley_dead_letters_total',
    help: 'Actions moved to a dead-letter stream, by service, type and reason.',
    labelNames: ['service', 'type', 'reason'] as const,
    registers: [registry],
  });

  const busHooks: Required<BusHooks> = {
    handled(type: string, outcome: Outcome, ms: number) {
      handled.inc({ type, outcome });
      handlerSeconds.observe({ type, outcome }, ms / 1000);
    },
    called(type: string, outcome: Outcome, ms: number) {
      callSeconds.observe({ type, outcome }, ms / 1000);
    },
    deadLettered(service: string, type: string, reason: string) {
      deadLetters.inc({ service, type: boundedLabel(type), reason: boundedLabel(reason) });
    },
  };

  const groups: Array<{ redis: RedisClient; stream: string; group: string; deadLetters: string }> = [];
  // Each gauge reads on its own: prom-client collects metrics concurrently, so one cannot fill the other.
  new Gauge({
    name: 'parley_consumer_lag',
    help: 'Entries in the service stream not yet delivered to its consumer group (what KEDA scales on).',
    labelNames: ['stream', 'group'] as const,
    registers: [registry],
    async collect() {
      for (const g of groups) {
        const info = await readGroup(g.redis, g.stream, g.group);
        if (info?.lag != null) this.set({ stream: g.stream, group: g.group }, info.lag);
      }
    },
  });
  new Gauge({
    name: 'parley_consumer_pending',
    help: 'Entries delivered to the consumer group but not acknowledged yet.',
    labelNames: ['stream', 'group'] as const,
    registers: [registry],
    async collect() {
      for (const g of groups) {
        const info = await readGroup(g.redis, g.stream, g.group);
        if (info) this.set({ stream: g.stream, group: g.group }, info.pending);
      }
    },
  });

  // Lag counts entries nobody read; a handler stuck on what it read shows here instead.
  new Gauge({
    name: 'parley_consumer_oldest_pending_seconds',
    help: 'Age of the oldest entry delivered to the consumer group and not acknowledged yet (0 when none is pending).',
    labelNames: ['stream', 'group'] as const,
    registers: [registry],
    async collect() {
      for (const g of groups) {
        const age = await oldestPendingAge(g.redis, g.stream, g.group);
        if (age !== null) this.set({ stream: g.stream, group: g.group }, age);
      }
    },
  });

  // A counter of dead letters resets with the process; the stream's length is what an operator must empty.
  new Gauge({
    name: 'parley_dead_letter_entries',
    help: "Entries in the service's dead-letter stream (XLEN), waiting to be replayed or dropped.",
    labelNames: ['stream'] as const,
    registers: [registry],
    async collect() {
      for (const g of groups) {
        const length = await g.redis.xlen(g.deadLetters).catch(() => null);
        if (length !== null) this.set({ stream: g.deadLetters }, length);
      }
    },
  });

  return {
    registry,
    busHooks,
    watchConsumerGroup(redis, prefix, service) {
      groups.push({ redis, stream: busKeys.stream(prefix, service), group: busKeys.group(service), deadLetters: busKeys.deadLetters(prefix, service) });
    },
  };
}

/**
 * XINFO GROUPS answers a flat [name, value, …] list per group. `lag` is null when Redis cannot
 * compute it (e.g. after XDEL/XSETID), so it is reported as absent rather than as zero.
 */
async function readGroup(redis: RedisClient, stream: string, group: string): Promise<{ lag: number | null; pending: number } | null> {
  let rows: unknown[];
  try {
    rows = (await redis.xinfo('GROUPS', stream)) as unknown[];
  } catch {
    return null; // no stream yet: nothing was ever sent to this service
  }
  for (const row of rows) {
    const fields = row as Array<string | number | null>;
    const get = (name: string) => fields[fields.indexOf(name) + 1];
    if (get('name') !== group) continue;
    const lagValue = fields.includes('lag') ? get('lag') : null;
    return { lag: lagValue == null ? null : Number(lagValue), pending: Number(get('pending') ?? 0) };
  }
  return null;
}

/** Seconds since the oldest pending entry was added (its id is its time); null when there is no group to read. */
async function oldestPendingAge(redis: RedisClient, stream: string, group: string): Promise<number | null> {
  let summary: unknown[];
  try {
    summary = (await redis.xpending(stream, group)) as unknown[];
  } catch {
    return null; // no stream or group yet
  }
  const oldestId = summary[1];
  if (typeof oldestId !== 'string') return 0;
  return Math.max(0, (Date.now() - Number(oldestId.split('-')[0])) / 1000);
}

// A label value with free text (an exception message as a "reason") would create a series per value.
function boundedLabel(value: string): string {
  return /^[a-z0-9_.]{1,64}$/.test(value) ? value : 'other';
}
