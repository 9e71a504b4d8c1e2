#!/usr/bin/env node
// Runs before `npm start` (the root's `prestart`): builds apps/web/dist when it is missing or older
// than the UI's sources, so the gateway has a UI to serve at `/`. Installs first if needed (the
// launcher would, but only after this step). Plain Node: nothing here may need a dependency.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from '../../../scripts/launcher/install.mjs';

const web = fileURLToPath(new URL('..', import.meta.url));
const root = join(web, '..', '..');
const say = (msg) => console.log(`\x1b[1m\x1b[36mparley\x1b[0m ${msg}`);

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const built = join(web, 'dist', 'index.html');
const sources = Math.max(newest(join(web, 'src')), newest(join(web, 'index.html')), newest(join(web, 'vite.config.ts')));
if (existsSync(built) && statSync(built).mtimeMs >= sources) process.exit(0);

ensureInstalled(root, say);
say(existsSync(built) ? 'the web UI changed since its last build; building it …' : 'building the web UI (apps/web/dist) …');
const r = spawnSync(process.execPath, [join(web, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
if (r.status !== 0) {
  // The platform still runs without its UI; the gateway's `/` says how to build it.
  say(`the web UI build failed (exit ${r.status}); starting without it — fix the error above and run npm run build:web`);
}
