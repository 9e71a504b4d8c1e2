#!/usr/bin/env node
// npm run bench [suite…]: runs bench/<suite>.ts for each suite named, or every suite in bench/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchNode } from './bench-node.mjs';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
// Helpers of a suite (its worker processes) end in -worker.ts; they are not suites.
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('-worker.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3));
const wanted = process.argv.slice(2);
const suites = wanted.length ? wanted : all;
// Benchmarks measure what ships: the image runs each service's compiled dist/ with plain node, so the
// suites do too (turbo's cache makes this a no-op when nothing changed). BENCH_SOURCE=1 runs the
// TypeScript sources through tsx instead, e.g. to profile without building.
const fromSource = process.env.BENCH_SOURCE === '1';
if (!fromSource) {
  console.log('building (turbo run build) so the benchmarks run the compiled services…');
  const build = spawnSync(
    process.execPath,
    [fileURLToPath(new URL('./pnpm.mjs', import.meta.url)), 'exec', 'turbo', 'run', 'build', '--filter=!@parley/web', '--output-logs=errors-only'],
    { stdio: 'inherit' },
  );
  if (build.status !== 0) {
    console.error('the build failed; benchmarks not run');
    process.exit(1);
  }
}
// The suites (and every process they start) run on the images' Node major, see bench-node.mjs.
const node = benchNode();
console.log(`benchmarks run on ${spawnSync(node.path, ['--version'], { encoding: 'utf8' }).stdout.trim()} (${node.why})`);
let failed = 0;
for (const suite of suites) {
  if (!all.includes(suite)) {
    console.error(`no benchmark "${suite}"; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench:${suite}`);
  const args = fromSource ? ['--conditions=@parley/source', '--import', 'tsx'] : ['--import', 'tsx'];
  const r = spawnSync(node.path, [...args, `${dir}${suite}.ts`], { stdio: 'inherit', env: { ...process.env, ...(fromSource ? {} : { PARLEY_BUILT: '1' }) } });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
