// Finds Redis: REDIS_URL, else 127.0.0.1:6379, else a throwaway redis-server of our own.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPackage, scriptCommand } from './apps.mjs';
import { startChild } from './children.mjs';
import { freePort, sleep } from './ports.mjs';
import { c } from './pretty.mjs';
import { workspaceRequire } from './workspace-require.mjs';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

export async function pingRedis(root, url) {
  const { Redis } = workspaceRequire(root, 'ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return err.code ?? err.message;
  } finally {
    redis.disconnect();
  }
}

/** @returns {{ url: string, stop?: () => Promise<void>, note: string }} */
export async function findRedis(root, env, say) {
  if (env.REDIS_URL) {
    const problem = await pingRedis(root, env.REDIS_URL);
    if (problem) fail(`REDIS_URL ${safe(env.REDIS_URL)} is not reachable (${problem}); start Redis there or change REDIS_URL`);
    return { url: env.REDIS_URL, note: 'from REDIS_URL' };
  }
  if (!(await pingRedis(root, DEFAULT_URL))) return { url: DEFAULT_URL, note: 'local, port 6379' };
  return startThrowawayRedis(root, say);
}

/** A redis-server of the launcher's own on a free port; it stops when stop() is called or the launcher is gone. */
export async function startThrowawayRedis(root, say) {
  if (!onPath('redis-server')) {
    fail(
      [
        'Redis is not reachable at 127.0.0.1:6379 and redis-server is not installed.',
        '  Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),',
        '  or run one in Docker: docker run -d -p 6379:6379 redis:7,',
        '  or point REDIS_URL at an existing Redis 7+.',
      ].join('\n'),
    );
  }
  const port = await freePort();
  const dir = join(root, '.parley', 'redis');
  mkdirSync(dir, { recursive: true });
  say(`starting a throwaway redis-server on port ${port} (no persistence; data in .parley/redis is not kept)`);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  // redis-server is not a Node process, so the tether preload cannot reach it: a shell holds it and stops it when its
  // stdin, a pipe only the launcher holds, reaches end of file, which the kernel makes happen however the launcher goes.
  const child = spawn('sh', ['-c', 'redis-server "$@" & server=$!; cat >/dev/null; kill $server; wait $server', 'redis-server', ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && (await pingRedis(root, url)); i++) await sleep(100);
  if (await pingRedis(root, url)) fail(`redis-server on port ${port} did not answer; try running \`redis-server --port ${port}\` by hand`);
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    note: `started by the launcher, port ${port}`,
    async stop() {
      child.stdin.end();
      await Promise.race([exited, sleep(3000)]);
    },
  };
}

export function onPath(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

export function safe(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function fail(message) {
  console.error(`\n${message}\n`);
  process.exit(1);
}

/**
 * `npm start -- --redis-cluster`: a throwaway 3+3 Redis Cluster of the launcher's own (`npm run
 * redis-cluster`), tethered like every child, so it goes when the launcher goes.
 * @returns {Promise<{ nodes: string, proc: ReturnType<typeof startChild>, note: string }>}
 */
export async function startThrowawayCluster(root, env, say) {
  if (!onPath('redis-server')) fail('--redis-cluster needs redis-server on this machine (Debian/Ubuntu: sudo apt-get install redis-server)');
  say('starting a throwaway Redis Cluster (3 masters, 3 replicas; nothing is kept)');
  let nodes = null;
  const proc = startChild({
    label: 'redis-cluster',
    color: c.gray,
    width: 0,
    command: scriptCommand(root, root, readPackage(root).scripts['redis-cluster']),
    env,
    onLine: (line) => {
      const m = /^REDIS_CLUSTER_NODES=(\S+)$/.exec(line);
      if (m) nodes = m[1];
    },
  });
  for (let i = 0; i < 300 && proc.running() && !nodes; i++) await sleep(100);
  if (!nodes) fail('the Redis Cluster did not start (see its lines above)');
  return { nodes, proc, note: 'started by the launcher' };
}
