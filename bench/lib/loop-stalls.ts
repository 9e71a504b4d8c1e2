/**
 * Event-loop delay and GC columns of one service process over a measured phase, read from its own
 * /metrics (service-kit): `nodejs_eventloop_lag_{p50,p99,max}_seconds` (perf_hooks.monitorEventLoopDelay,
 * reset by every scrape, so the scrape that opens the phase starts its window) and
 * `parley_gc_pause_seconds_total` / `parley_gc_pauses_total` (every GC entry, as a difference).
 *
 * The delay values are monitorEventLoopDelay's: the time between two ticks of its timer, so an idle loop
 * reads about the resolution (METRICS_EVENT_LOOP_RESOLUTION_MS, which the benches set to 1) and a stall
 * of s ms reads about s + resolution. Nothing else may scrape the process during the phase.
 */
import { PerformanceObserver } from 'node:perf_hooks';

export type LoopColumns = Record<string, number>;

export interface LoopPhase {
  /** Reads the window since `loopStalls` opened it, as `<name>_eld_p50_ms`, `_eld_p99_ms`, `_eld_max_ms`, `_gc_pause_ms`, `_gc_count`. */
  end(): Promise<LoopColumns>;
}

/** Opens a phase on the process whose metrics are at `metricsUrl`; its columns are named after `name` (e.g. `gateway`). */
export async function loopStalls(name: string, metricsUrl: string): Promise<LoopPhase> {
  const before = await scrape(metricsUrl);
  return {
    async end() {
      const after = await scrape(metricsUrl);
      return {
        [`${name}_eld_p50_ms`]: after.eldP50 * 1000,
        [`${name}_eld_p99_ms`]: after.eldP99 * 1000,
        [`${name}_eld_max_ms`]: after.eldMax * 1000,
        [`${name}_gc_pause_ms`]: (after.gcSeconds - before.gcSeconds) * 1000,
        [`${name}_gc_count`]: after.gcCount - before.gcCount,
      };
    },
  };
}

async function scrape(url: string): Promise<{ eldP50: number; eldP99: number; eldMax: number; gcSeconds: number; gcCount: number }> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
  const text = await res.text();
  // One unlabelled-by-kind series each (the registry's default labels only); NaN when absent.
  const value = (metric: string) => Number(new RegExp(`^${metric}(?:\\{[^}]*\\})? ([0-9.e+-]+|NaN)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    eldP50: value('nodejs_eventloop_lag_p50_seconds'),
    eldP99: value('nodejs_eventloop_lag_p99_seconds'),
    eldMax: value('nodejs_eventloop_lag_max_seconds'),
    gcSeconds: value('parley_gc_pause_seconds_total'),
    gcCount: value('parley_gc_pauses_total'),
  };
}

/**
 * The bench process's own GC pauses over a phase, as `bench_gc_pause_ms` / `bench_gc_count`: the load
 * generator's collections delay the responses it times, so a tail can be the bench's and not the service's.
 */
export function ownGcPauses(): { end(): LoopColumns } {
  let ms = 0;
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      ms += e.duration;
      count++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    end() {
      observer.disconnect();
      return { bench_gc_pause_ms: ms, bench_gc_count: count };
    },
  };
}
