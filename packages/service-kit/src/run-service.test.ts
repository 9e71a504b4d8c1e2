import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createBus } from '@parley/bus';
import { catalog } from '@parley/contracts';
import { redisTest, redisUrl, spawnTs, type TsProcess } from '@parley/testing';
import { afterEach, describe, expect } from 'vitest';
import { createLogger, defineEnv, startService } from './index.js';

const fixture = fileURLToPath(new URL('../test-fixtures/migration-like.ts', import.meta.url));
const meta = { tenantId: 't1' };
const started: TsProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
});

function start(prefix: string, env: Record<string, string> = {}) {
  const p = spawnTs(fixture, { REDIS_URL: redisUrl, BUS_PREFIX: prefix, HTTP_HOST: '127.0.0.1', INSTANCE_ID: 'migration-1', LOG_LEVEL: 'info', ...env });
  started.push(p);
  return p;
}

function lines(p: TsProcess): Array<Record<string, unknown>> {
  return p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('runService', () => {
  redisTest('a service answers on the bus and serves /healthz, /readyz and /metrics', async ({ prefix }) => {
    const p = start(prefix);
    await p.waitForOutput('"msg":"ready"');
    const ready = lines(p).find((l) => l.msg === 'ready')!;
    expect(ready).toMatchObject({ service: 'migration', instance: 'migration-1', consumes: 'migration', mode: 'dev' });
    const port = ready.httpPort as number;
    expect(port).toBeGreaterThan(0);

    const caller = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
    try {
      const reply = await caller.call('migration.migrate_conversation', { conversationId: 'c1' }, { ...meta, traceId: 'b'.repeat(32) });
      expect(reply).toEqual({ conversationId: 'c1', migrated: true, messages: 3 });
      expect(await caller.call('migration.get_stats', {}, meta)).toMatchObject({ migratedConversations: 1 });

      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(readyz.status).toBe(200);
      expect(await readyz.json()).toEqual({ status: 'ready', checks: { shutdown: 'ok', redis: 'ok', bus: 'ok', worker: 'ok' } });

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/parley_actions_handled_total\{[^}]*type="migration.migrate_conversation"[^}]*outcome="ok"[^}]*\} 1/);
      // The stream label holds a hash tag (`{migration}`), so match the line, not a brace-free label set.
      const lagLine = metrics.split('\n').find((l) => l.startsWith('parley_consumer_lag{') && l.includes('group="migration"'));
      expect(lagLine).toMatch(/ 0$/);

      // The handler's log line carries the convention's fields.
      const handled = lines(p).find((l) => l.msg === 'migrated');
      expect(handled).toMatchObject({ service: 'migration', instance: 'migration-1', tenantId: 't1', traceId: 'b'.repeat(32), conversationId: 'c1' });
    } finally {
      await caller.close();
    }
  });

  redisTest('SIGTERM finishes the in-flight action, runs closers, exits 0', async ({ prefix, redis }) => {
    const p = start(prefix, { FIXTURE_HANDLER_MS: '700' });
    await p.waitForOutput('"msg":"ready"');
    const caller = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
    try {
      const reply = caller.call('migration.migrate_conversation', { conversationId: 'c2' }, meta, { timeoutMs: 5_000 });
      await new Promise((r) => setTimeout(r, 200)); // the handler is running now
      const exit = p.kill('SIGTERM');
      expect(await reply).toMatchObject({ conversationId: 'c2', migrated: true });
      expect(await exit).toBe(0);
    } finally {
      await caller.close();
    }
    const msgs = lines(p).map((l) => l.msg);
    expect(msgs.indexOf('shutting down')).toBeLessThan(msgs.indexOf('migrated'));
    expect(msgs.indexOf('migrated')).toBeLessThan(msgs.indexOf('fixture loop stopped'));
    expect(msgs.at(-1)).toBe('stopped');
    const pending = (await redis.xpending(`${prefix}:actions:{migration}`, 'migration')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  redisTest('a handler factory that throws is logged, closes what was opened, exits 1', async ({ prefix }) => {
    const p = start(prefix, { FIXTURE_FAIL_SETUP: 'true' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    const fatal = lines(p).find((l) => l.msg === 'failed to start: database is down');
    expect(fatal).toMatchObject({ level: 'fatal', err: { message: 'database is down' } });
    expect(lines(p).map((l) => l.msg)).toContain('shutting down');
  });

  redisTest('an unreachable Redis fails fast with one line saying what to do', async ({ prefix }) => {
    const p = start(prefix, { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(p.output()).toContain('REDIS_URL redis://***@127.0.0.1:1 is not reachable');
    expect(p.output()).toContain('start Redis or set REDIS_URL');
    expect(p.output()).not.toContain('hunter2');
  });

  redisTest('an unreachable cluster fails fast naming REDIS_CLUSTER_NODES, never the password', async ({ prefix }) => {
    const p = start(prefix, { REDIS_URL: 'redis://:hunter2@127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(p.output()).toContain('REDIS_CLUSTER_NODES 127.0.0.1:1,127.0.0.1:2 is not reachable');
    expect(p.output()).toContain('start the cluster or fix REDIS_CLUSTER_NODES');
    expect(p.output()).not.toContain('hunter2');
  });
});

describe('startService (in-process, as tests run services)', () => {
  const env = defineEnv({});
  const quiet = createLogger({ service: 'test', instance: 'test', level: 'silent' });

  redisTest('serves health on `healthPort` when HTTP_PORT belongs to the service, and tells start() where', async ({ prefix }) => {
    // HTTP_PORT is taken (the service's own server would hold it): the health server must not try it.
    const own = createServer();
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const ownPort = (own.address() as AddressInfo).port;
    const parsed = env.parse('svc', { REDIS_URL: redisUrl, BUS_PREFIX: prefix, HTTP_PORT: String(ownPort), HTTP_HOST: '127.0.0.1' });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    let seen: number | null = null;
    const running = await startService(
      { name: 'svc', env, healthPort: () => 0, start: ({ healthPort }) => void (seen = healthPort) },
      { ...parsed, log: quiet },
    );
    try {
      expect(running.httpPort).not.toBe(ownPort);
      expect(seen).toBe(running.httpPort);
      expect((await fetch(`http://127.0.0.1:${running.httpPort}/metrics`)).status).toBe(200);
    } finally {
      await running.stop();
      own.close();
    }
    await expect(fetch(`http://127.0.0.1:${running.httpPort}/healthz`)).rejects.toThrow();
  });

  redisTest('a start() that throws closes what was opened and rejects, without exiting the process', async ({ prefix }) => {
    const parsed = env.parse('svc', { REDIS_URL: redisUrl, BUS_PREFIX: prefix, HTTP_HOST: '127.0.0.1' });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    let healthPort: number | null = null;
    const failing = startService(
      {
        name: 'svc',
        env,
        start: (kit) => {
          healthPort = kit.healthPort;
          throw new Error('port taken');
        },
      },
      { ...parsed, log: quiet },
    );
    await expect(failing).rejects.toThrow('port taken');
    expect(healthPort).toBeGreaterThan(0);
    await expect(fetch(`http://127.0.0.1:${healthPort}/healthz`)).rejects.toThrow();
  });
});
