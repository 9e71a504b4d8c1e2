/**
 * Total GC pause time and count of the process, as two counters. prom-client's
 * `nodejs_gc_duration_seconds` observes only the first entry of each batch its PerformanceObserver is
 * handed, and the observer batches every GC between two turns of the loop (an incremental mark and the
 * major GC it ends arrive together): under load it undercounts exactly the pauses that matter. These
 * count every entry, so two scrapes around a phase give its GC pause total.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { Counter, type Registry } from 'prom-client';

export function watchGcPauses(registry: Registry): void {
  const seconds = new Counter({
    name: 'parley_gc_pause_seconds_total',
    help: 'Time the process spent in garbage collection (every GC entry, including those prom-client skips in a batch).',
    registers: [registry],
  });
  const count = new Counter({
    name: 'parley_gc_pauses_total',
    help: 'Garbage collections of the process (every GC entry).',
    registers: [registry],
  });
  const observer = new PerformanceObserver((list) => {
    const entries = list.getEntries();
    let ms = 0;
    for (const e of entries) ms += e.duration;
    seconds.inc(ms / 1000);
    count.inc(entries.length);
  });
  observer.observe({ entryTypes: ['gc'] });
}
