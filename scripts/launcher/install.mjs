// Installs dependencies when they are missing or older than the lockfile; shared by start and test.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pnpm } from '../pnpm.mjs';

/** pnpm writes node_modules/.modules.yaml at the end of every install: its age is the install's age. */
export function needsInstall(root) {
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(marker)) return 'node_modules is missing';
  const lock = join(root, 'pnpm-lock.yaml');
  if (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs) return 'pnpm-lock.yaml changed since the last install';
  return null;
}

export function ensureInstalled(root, say) {
  const why = needsInstall(root);
  if (!why) return;
  say(`installing dependencies (${why}) …`);
  const code = pnpm(['install', '--frozen-lockfile']);
  if (code !== 0) {
    say(`dependency install failed (exit ${code}); fix the error above, then run again`);
    process.exit(code);
  }
}
