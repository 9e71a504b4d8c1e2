#!/usr/bin/env node
// `npm test`: installs if needed, runs the gate (typecheck, lint, format), makes sure Redis and PostgreSQL answer
// (starting the machine's own when it can), runs vitest once for the whole repo, and ends with one line:
// `N passed, N failed`, where each failed gate step counts as one failed test.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureInstalled } from './launcher/install.mjs';
import { canConnect, sleep } from './launcher/ports.mjs';
import { onPath } from './launcher/redis.mjs';
import { runGate } from './gate.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (msg) => console.log(`[npm test] ${msg}`);

// The exact commands for a Debian machine of the CI kind (see DEVELOPERS.md / the README).
const START_POSTGRES = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';
const START_REDIS =
  'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log';

ensureInstalled(root, say);
// A run of chosen test files (`npm test -- tests/x.test.ts`) is a developer's rerun: the gate is `npm run gate`.
const filtered = process.argv.length > 2;
if (filtered) say('test files chosen: the gate is skipped (npm run gate runs it)');
const gateFailures = filtered ? [] : runGate();
await ensureService({
  name: 'Redis',
  envVar: 'REDIS_URL',
  url: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  canStart: () => onPath('redis-server'),
  start: () => {
    mkdirSync('/var/lib/redis', { recursive: true });
    mkdirSync('/var/log/redis', { recursive: true });
    return sh(START_REDIS);
  },
  howTo: 'install redis-server (apt-get install redis-server) or set REDIS_URL',
});
await ensureService({
  name: 'PostgreSQL',
  envVar: 'DATABASE_URL',
  url: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  canStart: () => onPath('pg_ctlcluster') && existsSync('/etc/postgresql'),
  start: () => sh(START_POSTGRES),
  howTo: 'install PostgreSQL (apt-get install postgresql) or set DATABASE_URL',
});
ensureBrowser();

const report = join(root, 'tests', 'artifacts', 'vitest-report.json');
rmSync(report, { force: true });
const vitest = join(root, 'node_modules', '.bin', 'vitest');
const run = spawnSync(vitest, ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
const code = run.status ?? 1;
if (gateFailures.length) say(`gate failed: ${gateFailures.join(', ')}`);
console.log(summary(report, code, gateFailures.length));
process.exit(code || (gateFailures.length ? 1 : 0));

/** `N passed, N failed[, N skipped]`, counted in tests. */
function summary(file, exitCode, gateFailed) {
  let r = {};
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // vitest died before writing its report; the failure is on screen above
  }
  const passed = r.numPassedTests ?? 0;
  let failed = r.numFailedTests ?? 0;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A suite that fails to load, or a failing global setup, counts no test; the line must not read as green.
  if (exitCode !== 0 && failed === 0) failed = Math.max(1, r.numFailedTestSuites ?? 0);
  failed += gateFailed;
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
}

async function ensureService({ name, envVar, url, canStart, start, howTo }) {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const defaultPort = name === 'Redis' ? 6379 : 5432;
  const p = Number(port) || defaultPort;
  if (await canConnect(host, p)) return;
  // Only the machine's own default instance is ours to start; anything else was configured on purpose.
  const ours = ['127.0.0.1', 'localhost', '::1'].includes(host) && p === defaultPort;
  if (!ours) fail(`${name} is not reachable at ${host}:${p}; start it or change ${envVar}`);
  if (!canStart()) fail(`${name} is not reachable at ${host}:${p}; ${howTo}`);
  say(`${name} is not running; starting the machine's own`);
  if (!start()) fail(`could not start ${name}; ${howTo}`);
  for (let i = 0; i < 60; i++) {
    if (await canConnect(host, p)) return;
    await sleep(500);
  }
  fail(`${name} was started but does not accept connections on ${host}:${p}`);
}

// Browser tests drive Debian's chromium; only installed when such tests exist.
function ensureBrowser() {
  if (!existsSync(join(root, 'tests', 'browser')) || existsSync('/usr/bin/chromium')) return;
  say('tests/browser exists and /usr/bin/chromium is missing: installing chromium from apt');
  const ok = sh('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium');
  if (!ok) fail('could not install chromium (apt-get install chromium); install it and run again');
}

function sh(command) {
  return spawnSync('sh', ['-c', command], { stdio: 'inherit' }).status === 0;
}

function fail(message) {
  console.log(`[npm test] ${message}`); // stdout, like the summary, so it cannot land after it
  console.log('0 passed, 1 failed');
  process.exit(1);
}
