/**
 * Builds apps/web/dist when a source is newer than the last build, once across parallel test
 * processes (an mkdir lock): `npm test` pays for a build only after the UI changed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const dist = join(web, 'dist', 'index.html');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const stale = () =>
  !existsSync(dist) ||
  Math.max(newestSource(join(web, 'src')), statSync(join(web, 'index.html')).mtimeMs, statSync(join(web, 'vite.config.ts')).mtimeMs) > statSync(dist).mtimeMs;

export async function ensureWebBuilt(): Promise<void> {
  if (!stale()) return;
  const lock = join(web, '.build-lock');
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process builds; a lock older than two minutes belongs to a crashed one.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock);
      if (i > 1200) throw new Error(`${lock} is held for too long`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!stale()) return;
    const r = spawnSync(process.execPath, [join(web, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: web, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}
