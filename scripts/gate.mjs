#!/usr/bin/env node
// The gate: typecheck, lint and format check, each run to the end so one run shows every problem.
// Exits 1 if any step failed; `npm test` runs it before the tests and counts a failed step as a failed test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);

export const STEPS = [
  { name: 'typecheck', cmd: process.execPath, args: [join(root, 'scripts', 'typecheck.mjs')] },
  { name: 'lint', cmd: bin('eslint'), args: ['--cache', '--cache-location', 'node_modules/.cache/eslint/', '--max-warnings', '0', '.'] },
  { name: 'format', cmd: bin('prettier'), args: ['--check', '--log-level', 'warn', '.'] },
];

export function runGate() {
  const failed = [];
  for (const step of STEPS) {
    const started = Date.now();
    const run = spawnSync(step.cmd, step.args, { cwd: root, stdio: 'inherit' });
    const s = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`[gate] ${step.name}: ${run.status === 0 ? 'ok' : 'FAILED'} (${s} s)`);
    if (run.status !== 0) failed.push(step.name);
  }
  return failed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(runGate().length ? 1 : 0);
