// `--start`: runs the real launcher (scripts/start.mjs) as a child on free ports and its own bus prefix,
// waits until it says every process is ready, and stops it (SIGTERM, its graceful path) at the end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ANSI = /\x1b\[[0-9;]*m/g;

export interface Platform {
  gatewayUrl: string;
  busPrefix: string;
  redisUrl: string;
  logFile: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function startPlatform(scale: string[], say: (m: string) => void, readyTimeoutMs = 180_000): Promise<Platform> {
  const port = await freePort();
  const busPrefix = `load-${randomBytes(4).toString('hex')}`;
  const logFile = join(tmpdir(), `parley-${busPrefix}.log`);
  const log = createWriteStream(logFile);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PARLEY_MODE: 'dev',
    PARLEY_GATEWAY_PORT: String(port),
    // Free ports for every other process too: a platform started by `npm start` may hold the stable ones.
    PARLEY_PORT_BASE: '0',
    // Its own prefix keeps this run's streams apart from other work on a shared Redis; deleted at the end.
    BUS_PREFIX: busPrefix,
    AUTH_JWT_SECRET: randomBytes(24).toString('hex'),
    AUTH_DEV_TOKENS: 'true',
    // The 30 runs/min per-user guard is not what is measured; fast turns with short think times would trip it.
    RUNS_PER_MINUTE: process.env['RUNS_PER_MINUTE'] ?? '600',
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
    DATABASE_URL: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/parley_load',
    FORCE_COLOR: '0',
  };
  const args = ['scripts/start.mjs', ...scale.flatMap((s) => ['--scale', s])];
  say(`starting the platform: node ${args.join(' ')} (gateway on port ${port}, bus prefix ${busPrefix}, log ${logFile})`);
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (raw: string) => {
      const line = raw.replace(ANSI, '');
      log.write(`${line}\n`);
      tail.push(line);
      if (tail.length > 60) tail.shift();
      const redis = /parley Redis\s+(\S+)/.exec(line);
      if (redis?.[1]) redisUrl = redis[1];
      if (/all \d+ processes ready/.test(line)) resolve();
      else if (/\d+ of \d+ processes running/.test(line)) reject(new Error(`some services did not start:\n${tail.join('\n')}`));
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    void exited.then((code) => reject(new Error(`the launcher exited (${code}) before the platform was ready:\n${tail.join('\n')}`)));
    setTimeout(() => reject(new Error(`the platform was not ready within ${readyTimeoutMs / 1000} s:\n${tail.join('\n')}`)), readyTimeoutMs).unref();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    // The launcher gives its services 15 s to stop, then kills them; past 30 s it is itself stuck.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { gatewayUrl: `http://127.0.0.1:${port}`, busPrefix, redisUrl, logFile, stop };
}
