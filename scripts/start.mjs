#!/usr/bin/env node
// `npm start`: the local launcher. Plain Node, no dependencies until it has installed them.
// Installs if needed, finds Redis and PostgreSQL, migrates, starts every app as its own process.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverApps, parseArgs, readPackage, scriptCommand } from './launcher/apps.mjs';
import { signalAll, startChild, stopAll } from './launcher/children.mjs';
import { devAuth } from './launcher/dev-auth.mjs';
import { maybeStartDevModel } from './launcher/dev-model.mjs';
import { ensureInstalled } from './launcher/install.mjs';
import { describeHolder } from './launcher/port-holder.mjs';
import { portPlan } from './launcher/ports.mjs';
import { findPostgres } from './launcher/postgres.mjs';
import { c, prefixColor } from './launcher/pretty.mjs';
import { findRedis, safe, startThrowawayCluster } from './launcher/redis.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (msg) => console.log(`${c.bold(c.cyan('parley'))} ${msg}`);
const USAGE = `usage: npm start [-- --scale <app>=<N> ...] [-- --redis-cluster]
  --scale agent-execution=3   run 3 replicas of apps/agent-execution (0 = do not start it)
  --redis-cluster             run on a throwaway Redis Cluster (3 masters, 3 replicas) started for this run
env: REDIS_URL, REDIS_CLUSTER_NODES, DATABASE_URL, MODEL_BASE_URL/OPENAI_API_KEY, PARLEY_GATEWAY_PORT (3000), PARLEY_PORT_BASE (9101; 0 = any free port),
     PARLEY_STOP_TIMEOUT_MS (15000)`;

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const appsDir = resolve(root, process.env.PARLEY_APPS_DIR ?? 'apps');
const { apps, skipped } = discoverApps(appsDir);
for (const name of args.scale.keys()) {
  if (!apps.some((a) => a.name === name)) {
    console.error(`--scale ${name}: no runnable app named "${name}" (apps: ${apps.map((a) => a.name).join(', ') || 'none'})`);
    process.exit(2);
  }
}

const plan = await planPorts();
ensureInstalled(root, say);
const stopTimeoutMs = Number(process.env.PARLEY_STOP_TIMEOUT_MS ?? 15_000);
// A cluster (the flag's own, or REDIS_CLUSTER_NODES) replaces the single node for every service.
const cluster = args.redisCluster ? await startThrowawayCluster(root, process.env, say) : null;
const clusterNodes = cluster?.nodes ?? process.env.REDIS_CLUSTER_NODES;
const redis = clusterNodes ? null : await findRedis(root, process.env, say);
const postgres = await findPostgres(root, process.env, say);
if (redis) say(`Redis      ${safe(redis.url)} (${redis.note})`);
else say(`Redis      cluster ${clusterNodes} (${cluster ? cluster.note : 'from REDIS_CLUSTER_NODES'})`);
say(`PostgreSQL ${safe(postgres.url)} (${postgres.note})`);

const baseEnv = {
  ...process.env,
  ...(redis ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: clusterNodes }),
  DATABASE_URL: postgres.url,
  PARLEY_MODE: process.env.PARLEY_MODE ?? 'dev',
};
Object.assign(baseEnv, devAuth(root, baseEnv, say));
runMigrations(baseEnv);

const devModel = await maybeStartDevModel(root, baseEnv, say);
if (devModel) baseEnv.MODEL_BASE_URL = devModel.baseUrl;

for (const s of skipped) say(c.yellow(`skipping ${s}`));
if (plan.length === 0) {
  say(`no app to start under ${appsDir} (an app is a folder with a package.json that has a "start" script)`);
  await cleanup();
  process.exit(1);
}

const width = Math.max(...plan.map((p) => p.label.length));
const ready = new Set();
let stopping = false;
const procs = plan.map((p) =>
  startChild({
    label: p.label,
    color: prefixColor(apps.indexOf(p.app)), // replicas share their app's color
    width,
    command: scriptCommand(root, p.app.dir, p.app.script),
    env: {
      ...baseEnv,
      SERVICE_NAME: p.app.name,
      INSTANCE_ID: p.label,
      HTTP_PORT: String(p.port),
      ...(p.metricsPort ? { METRICS_PORT: String(p.metricsPort) } : {}),
    },
    onLine: (line) => {
      if (line.includes('"msg":"ready"')) markReady(p.label);
    },
  }),
);

// Ready = said `ready` (runService) or answers /healthz on its HTTP_PORT (any service with its own server).
const exitedLabels = new Set();
function markReady(label) {
  if (ready.has(label) || stopping) return;
  ready.add(label);
  maybeSummary();
}
// Once every process is ready or gone, say what runs where (a crash must not hide the rest's URLs).
let summarized = false;
const settled = () => new Set([...ready, ...exitedLabels]).size;
function maybeSummary() {
  if (summarized || ready.size === 0 || settled() < plan.length) return;
  summarized = true;
  printSummary();
}
void (async () => {
  const started = Date.now();
  let warned = false;
  while (!stopping && !summarized && settled() < plan.length) {
    await Promise.all(
      plan
        .filter((p) => !ready.has(p.label) && !exitedLabels.has(p.label))
        .map(async (p) => {
          const ok = await fetch(`http://127.0.0.1:${p.port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) markReady(p.label);
        }),
    );
    if (!warned && Date.now() - started > 60_000) {
      warned = true;
      say(
        c.yellow(
          `still waiting for ${plan
            .filter((p) => !ready.has(p.label))
            .map((p) => p.label)
            .join(', ')} to become ready`,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 300));
  }
})();

for (const proc of procs) {
  void proc.exited.then(({ code, signal }) => {
    if (stopping) return;
    exitedLabels.add(proc.label);
    say(c.red(`${proc.label} exited (${signal ?? `code ${code}`}); it is not restarted — see its last lines above`));
    maybeSummary();
    if (procs.every((p) => !p.running())) {
      say(c.red('every service has exited; stopping'));
      void shutdown(1);
    }
  });
}

// If the launcher exits on a bug, its services stop at once. (Dying hard, it cannot run this: then
// each child sees its tether pipe close and stops itself, see launcher/tether.mjs.)
process.on('exit', () => {
  signalAll(procs, 'SIGTERM');
});

let signals = 0;
// SIGHUP: the terminal was closed; the services are in their own process groups and would not hear it.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (++signals > 1) {
      say('second signal: killing everything now');
      signalAll(devModel ? [...procs, devModel.proc] : procs, 'SIGKILL');
      process.exit(1);
    }
    void shutdown(0);
  });
}

function printSummary() {
  const lines = plan.map(
    (p) =>
      `  ${p.label.padEnd(width)}  http://127.0.0.1:${p.port}/readyz${p.metricsPort ? `  (metrics: http://127.0.0.1:${p.metricsPort}/metrics)` : ''}${exitedLabels.has(p.label) ? c.red('  (exited)') : ''}`,
  );
  say(exitedLabels.size ? c.yellow(`${plan.length - exitedLabels.size} of ${plan.length} processes running`) : c.green(`all ${plan.length} processes ready`));
  console.log(lines.join('\n'));
  const gateway = plan.find((p) => p.app.name === 'gateway');
  if (gateway && !exitedLabels.has(gateway.label)) {
    say(c.bold(`open the web UI at http://127.0.0.1:${gateway.port}/`));
    void printDevToken(gateway.port);
  }
  if (devModel) say(c.yellow('model: the offline DEV MODEL SERVER — answers are scripted'));
  say('Ctrl-C stops everything');
  if ([...args.scale.values()].some((n) => n > 1)) printBusStatus();
}

/** With replicas, show that they share their service's stream: the consumers of each group (npm run ops -- status). */
function printBusStatus() {
  say('bus: consumers per service stream (npm run ops -- status)');
  const child = spawn(process.execPath, ['--conditions=@parley/source', '--import', 'tsx', join(root, 'scripts', 'ops.ts'), 'status'], {
    cwd: root,
    env: { ...process.env, ...baseEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('error', () => say(c.yellow('could not run npm run ops -- status')));
}

/** A newcomer can talk to the API at once: a dev token (only minted in dev mode; silent otherwise). */
async function printDevToken(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (!res.ok) return;
    const { token, tenantId, roles } = await res.json();
    say(`dev token (tenant ${tenantId}, roles ${roles.join(',')}): ${token}`);
    say(`  curl -H "Authorization: Bearer <token>" http://127.0.0.1:${port}/api/v1/flows  ·  ws://127.0.0.1:${port}/ws/chat?token=<token>`);
  } catch {
    // No dev login (production mode, or the gateway not answering yet): the UI URL is enough.
  }
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say(`stopping ${procs.filter((p) => p.running()).length} processes …`);
  await stopAll(procs, stopTimeoutMs, say);
  await cleanup();
  say('stopped');
  process.exit(code);
}

async function cleanup() {
  if (devModel) await stopAll([devModel.proc], 5_000, say);
  await redis?.stop?.();
  if (cluster) await stopAll([cluster.proc], 5_000, say);
}

/**
 * One process per replica, on ports in a stable order so URLs survive restarts. A port that is taken
 * (most often by a Parley still running from an earlier start) stops the launch with what holds it,
 * instead of quietly moving the service elsewhere.
 */
async function planPorts() {
  const base = Number(process.env.PARLEY_PORT_BASE || 9101);
  const gatewayPort = Number(process.env.PARLEY_GATEWAY_PORT || 3000);
  for (const [name, v] of [
    ['PARLEY_PORT_BASE', base],
    ['PARLEY_GATEWAY_PORT', gatewayPort],
  ]) {
    if (!Number.isInteger(v) || v < 0 || v > 65_000) {
      console.error(`${name} expects a port number (0 = any free port), got "${process.env[name]}"`);
      process.exit(2);
    }
  }
  const ports = portPlan(base);
  const out = [];
  for (const app of apps) {
    const replicas = args.scale.get(app.name) ?? 1;
    for (let n = 1; n <= replicas; n++) {
      const label = `${app.name}-${n}`;
      const port = await ports.take(label, app.name === 'gateway' && n === 1 ? gatewayPort : undefined);
      // The gateway serves /metrics on an internal port of its own, never on its public one.
      const metricsPort = app.name === 'gateway' ? await ports.take(`${label} metrics`) : undefined;
      out.push({ app, n, label, port, metricsPort });
    }
  }
  if (ports.busy.length) {
    console.error(
      [
        '',
        ...ports.busy.map(({ port, label }) => `port ${port} (for ${label}) is taken by ${describeHolder(port)}`),
        '',
        'A Parley still running from an earlier start? Stop it (Ctrl-C in its terminal, or kill the pid above).',
        'Or run on other ports: PARLEY_PORT_BASE=<first port> (0 = any free port) and PARLEY_GATEWAY_PORT=<port>.',
        '',
      ].join('\n'),
    );
    process.exit(1);
  }
  return out;
}

function runMigrations(env) {
  const dbDir = join(root, 'packages', 'db');
  const script = readPackage(dbDir)?.scripts?.['db:migrate'];
  if (!script) return;
  say('applying database migrations (packages/db db:migrate) …');
  const cmd = scriptCommand(root, dbDir, script);
  const r = spawnSync(cmd.cmd, cmd.args, { cwd: cmd.cwd, env: { ...env, PATH: cmd.path }, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\ndatabase migration failed (exit ${r.status ?? r.signal}); fix the error above and run npm start again\n`);
    process.exit(1);
  }
}
