// The launcher end to end, against the machine's real Redis and PostgreSQL, with fixture apps.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type Pg from 'pg';
import { workspaceRequire } from '../scripts/launcher/workspace-require.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const database = `parley_launcher_${randomUUID().slice(0, 8)}`;
const adminUrl = (process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres').replace(/\/[^/]*$/, '/postgres');

interface Launcher {
  child: ChildProcess;
  output(): string;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  exit: Promise<number | null>;
}

function launch(args: string[], env: Record<string, string> = {}): Launcher {
  const child = spawn(process.execPath, ['scripts/start.mjs', ...args], {
    cwd: root,
    env: {
      ...process.env,
      PARLEY_APPS_DIR: 'tests/fixtures/launcher-apps',
      DATABASE_URL: adminUrl.replace(/\/postgres$/, `/${database}`),
      MODEL_BASE_URL: 'http://127.0.0.1:9/v1', // a model is "configured": no dev model server
      NO_COLOR: '1',
      PARLEY_STOP_TIMEOUT_MS: '5000',
      PARLEY_PORT_BASE: '0', // tests run side by side: any free port, never the stable 9101…
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const l: Launcher = {
    child,
    output: () => out,
    exit,
    async waitFor(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no "${text}" in launcher output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  launched.push(l);
  return l;
}

/** The httpPort a fixture app reported in its ready line. */
function ready(out: string, label: string): number {
  const line = out.split('\n').find((l) => l.startsWith(`${label} `) && l.includes(' ready '));
  return Number(/httpPort=(\d+)/.exec(line ?? '')?.[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // exited while we looked
      }
    })
    .map(Number);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const launched: Launcher[] = [];
afterEach(async () => {
  // A failed assertion must not leave a launcher (and its services) running.
  for (const l of launched.splice(0)) {
    if (l.child.exitCode === null) l.child.kill('SIGTERM');
    await l.exit;
  }
});

afterAll(async () => {
  const pg = workspaceRequire(root, 'pg') as typeof Pg;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await client.end();
});

describe('npm start (scripts/start.mjs)', () => {
  test('starts every app with a start script, prefixed, with replicas; SIGINT stops them all', async () => {
    const l = launch(['--scale', 'echo=2']);
    await l.waitFor('all 3 processes ready');
    // Each echo writes its warning right after its ready line; on a busy host echo-1's can reach the launcher after
    // the summary (and after echo-2's).
    const echoWarning = /^echo-1 {2}│ \d\d:\d\d:\d\d\.\d{3} WARN {2}a warning with a field tenantId=t1$/m;
    await until("echo-1's warning line", () => echoWarning.test(l.output()));
    const out = l.output();
    expect(out).toContain(`created database ${database}`);
    expect(out).toContain('applying database migrations');
    expect(out).toContain('skipping not-yet (its start script needs src/main.ts');
    expect(out).not.toContain('idle'); // no start script: not an app to run
    expect(out).toMatch(/^plain-1 │ plain text from plain-1$/m);
    // pino-ish JSON is shown as "time LEVEL msg fields"
    expect(out).toMatch(echoWarning);
    // The summary names each process with its own HTTP_PORT.
    const ports = ['echo-1', 'echo-2', 'plain-1'].map((label) => Number(new RegExp(`^  ${label} +http://127.0.0.1:(\\d+)/readyz$`, 'm').exec(out)?.[1]));
    expect(new Set(ports).size).toBe(3);
    expect(ready(out, 'echo-1')).toBe(ports[0]);
    expect(ready(out, 'echo-2')).toBe(ports[1]);
    const pids = [...out.matchAll(/osPid=(\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(3);
    for (const port of ports.slice(0, 2)) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');

    l.child.kill('SIGINT');
    expect(await l.exit).toBe(0);
    expect(l.output()).toMatch(/^echo-1 {2}│ .* INFO {2}stopping$/m);
    expect(l.output()).toMatch(/^echo-2 {2}│ .* INFO {2}stopping$/m);
    expect(l.output().trim().split('\n').at(-1)).toBe('parley stopped');
    for (const pid of pids) expect(alive(pid)).toBe(false);
    for (const port of ports.slice(0, 2)) await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  test('a crashed service is reported, not restarted; the rest keep running until SIGTERM', async () => {
    const l = launch([], { PLAIN_CRASH_AFTER_MS: '300' });
    await l.waitFor('plain-1 exited (code 3); it is not restarted');
    await new Promise((r) => setTimeout(r, 500));
    expect(l.output().match(/plain text from plain-1/g)).toHaveLength(1);
    expect(l.child.exitCode).toBeNull();
    l.child.kill('SIGTERM');
    expect(await l.exit).toBe(0);
    expect(l.output()).toMatch(/^echo-1 +│ .* INFO {2}stopping$/m);
  });

  test('without a configured model it starts the dev model server, says so loudly, and passes its URL', async () => {
    const l = launch(['--scale', 'plain=0'], { MODEL_BASE_URL: '', OPENAI_API_KEY: '' });
    await l.waitFor('all 1 processes ready');
    expect(l.output()).toContain('NO MODEL CONFIGURED: using the offline DEV MODEL SERVER');
    const modelUrl = /model=(http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(l.output())?.[1];
    expect(modelUrl).toBeDefined();
    const res = await fetch(`${modelUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status).toBe(200);
    l.child.kill('SIGINT');
    expect(await l.exit).toBe(0);
    await expect(fetch(`${modelUrl}/models`)).rejects.toThrow();
  });

  test('when every service has exited the launcher stops with exit 1', async () => {
    const l = launch(['--scale', 'echo=0'], { PLAIN_CRASH_AFTER_MS: '200' });
    expect(await l.exit).toBe(1);
    expect(l.output()).toContain('plain-1 exited (code 3)');
    expect(l.output()).toContain('every service has exited; stopping');
  });

  test('SIGKILL of the launcher: every process it started (services, dev model) exits and frees its port', async () => {
    const l = launch([], { MODEL_BASE_URL: '', OPENAI_API_KEY: '' });
    await l.waitFor('all 2 processes ready');
    const children = childrenOf(l.child.pid!);
    const out = l.output();
    const ports = [ready(out, 'echo-1'), Number(/model=http:\/\/127\.0\.0\.1:(\d+)\/v1/.exec(out)?.[1])];
    expect(children).toHaveLength(3); // echo-1, plain-1, the dev model
    for (const port of ports) expect(await portIsFree(port)).toBe(false);

    l.child.kill('SIGKILL');
    await l.exit;
    try {
      await until('no child of the killed launcher is alive', () => children.every((pid) => !alive(pid)));
      for (const port of ports) expect(await portIsFree(port)).toBe(true);
    } finally {
      for (const pid of children.filter(alive)) process.kill(pid, 'SIGKILL'); // a failure leaves no orphans either
    }
  }, 60_000);

  test('--redis-cluster: the apps get the cluster of the run; SIGKILL of the launcher stops its nodes too', async () => {
    const l = launch(['--redis-cluster', '--scale', 'plain=0']);
    await l.waitFor('all 1 processes ready', 60_000);
    const nodes = /REDIS_CLUSTER_NODES=(\S+)/.exec(l.output())?.[1] ?? '';
    const ports = nodes.split(',').map((hp) => Number(hp.split(':')[1]));
    expect(ports).toHaveLength(6);
    expect(l.output()).toContain(`redisCluster=${nodes}`);
    for (const port of ports) expect(await portIsFree(port)).toBe(false);
    l.child.kill('SIGKILL');
    await l.exit;
    await until('every cluster node of the killed launcher is gone', async () => (await Promise.all(ports.map(portIsFree))).every(Boolean), 30_000);
  }, 90_000);

  test('a taken port stops the start, naming the port and the process that holds it', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    const port = (holder.address() as AddressInfo).port;
    try {
      const l = launch(['--scale', 'plain=0'], { PARLEY_PORT_BASE: String(port) });
      expect(await l.exit).toBe(1);
      expect(l.output()).toContain(`port ${port} (for echo-1) is taken by pid ${process.pid} (`);
      expect(l.output()).not.toContain('applying database migrations'); // it says so before doing anything
    } finally {
      holder.close();
    }
  });

  test('an unknown --scale name is an error that lists the apps', async () => {
    const l = launch(['--scale', 'nope=2']);
    expect(await l.exit).toBe(2);
    expect(l.output()).toContain('--scale nope: no runnable app named "nope" (apps: echo, plain)');
  });
});
