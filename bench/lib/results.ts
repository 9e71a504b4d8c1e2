import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  case: string;
  concurrency: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  [extra: string]: string | number | null;
}

/** Exact percentiles of a latency sample (ms). */
export function percentiles(samples: number[]): { p50: number; p99: number } {
  if (samples.length === 0) return { p50: NaN, p99: NaN };
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

const round = (v: number, d = 3) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : v);

/** Prints the table and writes bench/results/<suite>.json as {suite, rows}. */
export function report(suite: string, rows: BenchRow[], notes: string[] = []): void {
  const clean = roundRows(rows);
  console.log(`\n${suite}`);
  console.table(clean);
  for (const n of notes) console.log(n);
  console.log(`wrote ${writeResults(suite, clean, notes)}`);
}

export function roundRows(rows: BenchRow[]): BenchRow[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) as BenchRow);
}

/** Writes bench/results/<suite>.json as {suite, at, rows, notes}; returns its path from the repo root. */
export function writeResults(suite: string, rows: BenchRow[], notes: string[] = []): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}${suite}.json`, `${JSON.stringify({ suite, at: new Date().toISOString(), rows: roundRows(rows), notes }, null, 2)}\n`);
  return `bench/results/${suite}.json`;
}

/** Runs `op` from `concurrency` loops for `ms` and returns throughput and latencies. */
export async function closedLoop(concurrency: number, ms: number, op: () => Promise<unknown>): Promise<{ ops: number; opsPerS: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { ops: latencies.length, opsPerS: latencies.length / elapsed, latencies };
}
