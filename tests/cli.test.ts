// `npm run ops`, `load` and `chaos` as a user runs them: spawned, their exit codes and output read.
// Spawns are few and run side by side (each costs a Node + tsx start-up); the conventions' finer
// points are in cli-conventions.test.ts, in-process.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeServing, writeDeadLetter } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import { Cluster } from 'ioredis';
import { deletePrefix, newRedis, redisUrl, startRedisCluster, uniquePrefix, type RedisCluster } from '@parley/testing/tools';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(script: 'ops' | 'load' | 'chaos', args: string[], env: Record<string, string> = {}): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--conditions=@parley/source', '--import', 'tsx', `scripts/${script}.ts`, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 })));
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('npm run ops', () => {
  const prefix = uniquePrefix('cli');
  const redis = newRedis();
  const reason = `handler failed: ${'the upstream answered with a very long explanation '.repeat(6)}END`;

  beforeAll(async () => {
    await writeDeadLetter(redis, prefix, {
      service: 'agent',
      raw: '{}',
      type: 'agent.run',
      code: 'handler_error',
      reason,
      attempts: 3,
      entry: '',
      consumer: 'c1',
    });
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  test('--help, an unknown command, Redis down, status --json, a long cell cut and --full', async () => {
    const port = await closedPort();
    const env = { BUS_PREFIX: prefix, REDIS_URL: redisUrl };
    const [help, unknown, down, status, list, full] = await Promise.all([
      run('ops', ['--help']),
      run('ops', ['frobnicate']),
      run('ops', ['status'], { REDIS_URL: `redis://:hunter2@127.0.0.1:${port}` }),
      run('ops', ['status', '--json'], env),
      run('ops', ['dlq', 'list', 'agent'], env),
      run('ops', ['dlq', 'list', 'agent', '--full'], env),
    ]);

    expect(help.code).toBe(0);
    for (const cmd of ['status', 'dlq list <service> [limit]', 'dlq replay <service> <id…>', 'drain <service> <consumer>']) expect(help.stdout).toContain(cmd);

    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('ops: unknown command "frobnicate"');
    expect(unknown.stderr).toContain('usage: npm run ops -- <command>');

    // One line naming what and where (password hidden), exit 1, no ioredis stack.
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toBe(`ops: Redis at redis://***@127.0.0.1:${port} is not reachable (ECONNREFUSED); start it or set REDIS_URL`);
    noStack(down.stderr);

    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout) as Array<{ service: string; deadLetters: number }>;
    expect(rows.map((r) => r.service)).toEqual(['agent', 'conversation', 'gateway', 'migration', 'query']);
    expect(rows.find((r) => r.service === 'agent')?.deadLetters).toBe(1);

    // A table a terminal can show: header, rule, one row; the reason cut, no "(index)" column.
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id +at +type +code +attempts +reason$/);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('handler failed: the upstream');
    expect(lines[2]).toMatch(/…$/);
    expect(lines[2]).not.toContain('END');
    expect(list.stdout).not.toContain('(index)');
    expect(full.stdout).toContain(`${reason.replace(/\s+/g, ' ')}`);
  }, 90_000); // six Node start-ups side by side on a shared machine
});

describe('npm run ops on a Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('REDIS_CLUSTER_NODES: status names the master serving each stream; an unreachable cluster is one line', async () => {
    const prefix = uniquePrefix('cli-cluster');
    const client = new Cluster(cluster.nodes);
    try {
      for (const s of ['agent', 'conversation', 'gateway'] as const)
        await client.xgroup('CREATE', busKeys.stream(prefix, s), busKeys.group(s), '$', 'MKSTREAM');
      const port = await closedPort();
      const [status, down] = await Promise.all([
        run('ops', ['status', '--json'], { BUS_PREFIX: prefix, REDIS_CLUSTER_NODES: cluster.nodesEnv }),
        run('ops', ['status'], { REDIS_CLUSTER_NODES: `127.0.0.1:${port}` }),
      ]);
      expect(status.code).toBe(0);
      const rows = JSON.parse(status.stdout) as Array<{ service: string; node: string; consumers: unknown[]; length: number }>;
      expect(rows.map((r) => r.service).sort()).toEqual(['agent', 'conversation', 'gateway', 'migration', 'query']);
      for (const r of rows) {
        const node = nodeServing(client, busKeys.stream(prefix, r.service)).options;
        expect(r.node, r.service).toBe(`${node.host}:${node.port}`);
      }
      expect(down.code).toBe(1);
      expect(down.stderr.trim()).toMatch(
        new RegExp(`^ops: the Redis Cluster at 127\\.0\\.0\\.1:${port} is not reachable \\(.+\\); start it or fix REDIS_CLUSTER_NODES$`),
      );
      noStack(down.stderr);
    } finally {
      client.disconnect();
    }
  }, 90_000);
});

describe('npm run load and npm run chaos', () => {
  test('--help, an unknown flag named, PostgreSQL down is one line', async () => {
    const port = await closedPort();
    const [loadHelp, loadBad, chaosHelp, chaosDown] = await Promise.all([
      run('load', ['--help']),
      run('load', ['--users', '5', '--bogus']),
      run('chaos', ['--help']),
      run('chaos', [], { DATABASE_URL: `postgres://postgres:hunter2@127.0.0.1:${port}/postgres` }),
    ]);
    expect(loadHelp.code).toBe(0);
    expect(loadHelp.stdout).toMatch(/^ +--users <N> +simulated users/m);
    expect(loadBad.code).toBe(2);
    expect(loadBad.stderr.split('\n')[0]).toBe('load: unknown flag --bogus');

    expect(chaosHelp.code).toBe(0);
    expect(chaosHelp.stdout).toMatch(/^ +--redis-kill9 +restart Redis with kill -9/m);
    expect(chaosHelp.stdout).toMatch(/^ +--redis-cluster +run on a 3\+3 Redis Cluster/m);
    expect(chaosDown.code).toBe(1);
    expect(chaosDown.stderr.trim()).toBe(
      `chaos: PostgreSQL at postgres://***@127.0.0.1:${port}/postgres is not reachable (ECONNREFUSED); start it or set DATABASE_URL`,
    );
    noStack(chaosDown.stderr);
  }, 90_000);
});
