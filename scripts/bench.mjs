#!/usr/bin/env node
// npm run bench [suite…]: runs bench/<suite>.ts for each suite named, or every suite in bench/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../bench/', import.meta.url));
// Helpers of a suite (its worker processes) end in -worker.ts; they are not suites.
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('-worker.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3));
const wanted = process.argv.slice(2);
const suites = wanted.length ? wanted : all;
let failed = 0;
for (const suite of suites) {
  if (!all.includes(suite)) {
    console.error(`no benchmark "${suite}"; have: ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench:${suite}`);
  const r = spawnSync(process.execPath, ['--conditions=@parley/source', '--import', 'tsx', `${dir}${suite}.ts`], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
