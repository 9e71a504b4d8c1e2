#!/usr/bin/env node
// Runs the repo's pinned pnpm through npx, so a fresh machine needs nothing but Node and npm.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
export const pnpmSpec = pkg.packageManager; // e.g. pnpm@10.34.8

export function pnpm(args, opts = {}) {
  const r = spawnSync('npx', ['-y', pnpmSpec, ...args], { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit(pnpm(process.argv.slice(2)));
}
