#!/usr/bin/env node
// `npm run typecheck`: every TypeScript file in the repo, in the four programs that give each its
// right environment (Node services, tests and scripts; the web app; browser tests; benchmarks).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
import { PROGRAMS } from './typecheck-programs.mjs';

const tsc = join(root, 'node_modules', '.bin', 'tsc');
let failed = 0;
for (const project of PROGRAMS) {
  const run = spawnSync(tsc, ['--noEmit', '-p', project], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`[typecheck] ${project}: errors above`);
  }
}
process.exit(failed ? 1 : 0);
