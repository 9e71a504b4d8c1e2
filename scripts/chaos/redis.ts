// The chaos run's own Redis (never the machine's shared 6379) and the one fault it injects there:
// a single redis-server with AOF (fsync every second, data in a temp dir) restarted mid-load, or, with
// --redis-cluster, a 3+3 Redis Cluster whose busiest master is killed with kill -9 so its replica takes over.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RedisTarget } from '@parley/bus';
import { startRedisCluster } from '../../packages/testing/src/redis-cluster.js';
import { freePort } from '../load/platform.js';

export interface ChaosRedis {
  /** How the services reach it (REDIS_URL, or REDIS_CLUSTER_NODES). */
  env: Record<string, string>;
  /** How the chaos run's own clients reach it. */
  target: RedisTarget;
  /** One line for the start-up summary. */
  describe: string;
  /** The fault the schedule injects once: what it is, and doing it (resolves with what came of it). */
  fault: { what: string; inject(): Promise<string> };
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

export async function startChaosRedis(signal: 'SIGTERM' | 'SIGKILL'): Promise<ChaosRedis> {
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
    env: { REDIS_URL: url },
    target: url,
    describe: `redis ${url} (AOF everysec)`,
    fault: {
      what: `redis: ${signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM (AOF fsynced)'}, down 2 s, restarted from its AOF`,
      async inject() {
        await halt(signal);
        await new Promise((r) => setTimeout(r, 2_000));
        await launch();
        return 'redis: back';
      },
    },
    async stop() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A 3+3 cluster; the fault kills the master serving `hotKey` (the agent stream: every turn passes there). */
export async function startChaosCluster(hotKey: string): Promise<ChaosRedis> {
  const cluster = await startRedisCluster();
  return {
    env: { REDIS_CLUSTER_NODES: cluster.nodesEnv },
    target: { cluster: cluster.nodes },
    describe: `redis cluster ${cluster.nodesEnv} (3 masters, 3 replicas, no persistence)`,
    fault: {
      what: `redis cluster: kill -9 the master serving ${hotKey}`,
      async inject() {
        const t = performance.now();
        const { killed, promoted } = await cluster.killMasterOf(hotKey);
        return `redis cluster: ${killed.port} killed, replica ${promoted.port} serving as master after ${Math.round(performance.now() - t)} ms`;
      },
    },
    stop: () => cluster.stop(),
  };
}
