/**
 * A throwaway Redis Cluster for tests: 3 masters and 3 replicas from the machine's own
 * `redis-server` on free loopback ports, in a temporary directory, nothing persisted. Free of vitest
 * imports, so a global setup can start one for a whole run.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface ClusterNodeInfo {
  host: string;
  port: number;
}

export interface RedisCluster {
  /** Seed nodes as REDIS_CLUSTER_NODES spells them: `host:port,host:port,…`. */
  readonly nodesEnv: string;
  readonly nodes: ClusterNodeInfo[];
  /** The masters now (after a failover, a promoted replica is one). */
  masters(): Promise<ClusterNodeInfo[]>;
  /** SIGKILL the master serving `key`'s slot; resolves once its replica has taken over. */
  killMasterOf(key: string): Promise<{ killed: ClusterNodeInfo; promoted: ClusterNodeInfo }>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`redis cluster: ${what} within ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
}

async function info(node: ClusterNodeInfo, section: string): Promise<string> {
  const r = new Redis({ host: node.host, port: node.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {}); // a refused connection rejects connect() below
  try {
    await r.connect();
    if (section === 'replication') return String(await r.info('replication'));
    return section === 'nodes' ? String(await r.call('CLUSTER', 'NODES')) : String(await r.call('CLUSTER', 'INFO'));
  } finally {
    r.disconnect();
  }
}

/** Starts the cluster; `stop()` kills every node and removes the directory. */
export async function startRedisCluster(opts: { masters?: number; replicasPerMaster?: number } = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-cluster-'));
  const procs = new Map<number, ChildProcess>();
  const nodes: ClusterNodeInfo[] = [];
  const stop = async () => {
    await Promise.all(
      [...procs.values()].map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort();
      const node = { host: '127.0.0.1', port };
      // No persistence, no protected mode on loopback; node timeout short so a failover takes ~1 s.
      const p = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          '1000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--protected-mode',
          'no',
          // Replicas sync at once instead of after the default 5 s wait for more replicas.
          '--repl-diskless-sync-delay',
          '0',
        ],
        { stdio: 'ignore' },
      );
      procs.set(port, p);
      nodes.push(node);
    }
    await Promise.all(nodes.map((n) => until(`node ${n.port} up`, async () => (await info(n, 'info')).length > 0)));
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    await Promise.all(nodes.map((n) => until(`node ${n.port} sees cluster_state:ok`, async () => (await info(n, 'info')).includes('cluster_state:ok'))));
    // A replica that never synced is too stale to be promoted: wait until every link is up.
    await Promise.all(
      nodes.map((n) =>
        until(`node ${n.port} in sync`, async () => {
          const r = await info(n, 'replication');
          return r.includes('role:master') || r.includes('master_link_status:up');
        }),
      ),
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const alive = () => nodes.filter((n) => procs.get(n.port)?.exitCode === null && procs.get(n.port)?.signalCode === null);
  const mastersNow = async (): Promise<Array<ClusterNodeInfo & { id: string; slots: string }>> => {
    const text = await info(alive()[0]!, 'nodes');
    return text
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter((f) => f[2]?.includes('master') && !f[2].includes('fail'))
      .map((f) => {
        const [host, rest] = f[1]!.split(':');
        return { id: f[0]!, host: host!, port: Number(rest!.split('@')[0]), slots: f.slice(8).join(' ') };
      });
  };

  return {
    nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    nodes,
    masters: async () => (await mastersNow()).map(({ host, port }) => ({ host, port })),
    async killMasterOf(key: string) {
      const probe = new Redis({ host: alive()[0]!.host, port: alive()[0]!.port, lazyConnect: true, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      await probe.connect();
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', key));
      probe.disconnect();
      const owns = (slots: string) =>
        slots.split(' ').some((r) => {
          const [a, b] = r.split('-').map(Number);
          return a !== undefined && slot >= a && slot <= (b ?? a);
        });
      const victim = (await mastersNow()).find((m) => owns(m.slots));
      if (!victim) throw new Error(`no master serves slot ${slot}`);
      const p = procs.get(victim.port)!;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGKILL');
      });
      const promoted = await until(
        `a replica promoted for slot ${slot}`,
        async () => {
          const m = (await mastersNow()).find((x) => x.port !== victim.port && owns(x.slots));
          if (!m) return null;
          return (await info(m, 'info')).includes('cluster_state:ok') ? m : null;
        },
        30_000,
      );
      return { killed: { host: victim.host, port: victim.port }, promoted: { host: promoted.host, port: promoted.port } };
    },
    stop,
  };
}
