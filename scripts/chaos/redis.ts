// A dedicated redis-server for the chaos run (never the machine's shared 6379): AOF on, fsync every
// second, its data in a temp dir, so it can be restarted mid-load and come back with its streams.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../load/platform.js';

export interface ChaosRedis {
  url: string;
  /** Stops it with `signal` (SIGTERM: Redis fsyncs the AOF first; SIGKILL: up to 1 s of writes may go), waits `downMs`, starts it again. */
  restart(signal: 'SIGTERM' | 'SIGKILL', downMs: number): Promise<void>;
  stop(): Promise<void>;
}

async function ping(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export async function startChaosRedis(): Promise<ChaosRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-chaos-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--save',
    '',
    '--maxmemory-policy',
    'noeviction',
  ];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await ping(url)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis-server on port ${port} did not answer within 10 s (is redis-server installed?)`);
  };
  const halt = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
  };
  await launch();
  return {
    url,
    async restart(signal, downMs) {
      await halt(signal);
      await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
