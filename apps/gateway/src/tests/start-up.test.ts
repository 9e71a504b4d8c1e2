// The gateway's start-up through runService, in a real process: what it refuses (in one line that says what
// to do) and what it does not (PostgreSQL down only costs the stored Chatwoot inboxes, not the edge).
import { fileURLToPath } from 'node:url';
import { createDatabaseBehindMigrations, dropTestDatabase, urlForDatabase } from '@parley/testing/pg';
import { deletePrefix, newRedis, redisUrl, spawnTs, uniquePrefix } from '@parley/testing/tools';
import { afterAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const SECRET = 'start-up-secret-0123456789abcdef0123';
const prefixes: string[] = [];

function start(vars: Record<string, string>) {
  const prefix = uniquePrefix('gw-start');
  prefixes.push(prefix);
  return spawnTs(main, {
    REDIS_URL: redisUrl,
    BUS_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    AUTH_JWT_SECRET: SECRET,
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: '1000',
    ...vars,
  });
}

function lines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

afterAll(async () => {
  const redis = newRedis();
  for (const prefix of prefixes) await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('gateway start-up', () => {
  it('lists every configuration problem in one run and exits 1 before connecting anywhere', async () => {
    const p = start({ REDIS_URL: 'redis://127.0.0.1:1', AUTH_JWT_SECRET: '', PARLEY_MODE: 'production', WS_MAX_FRAME_BYTES: 'lots', CORS_ORIGINS: '*' });
    // SIGCONT changes nothing: kill() here only waits for the process to exit on its own.
    expect(await p.kill('SIGCONT')).toBe(1);
    const out = p.output();
    expect(out).toContain('gateway: invalid configuration (4 problems):');
    for (const name of [
      'WS_MAX_FRAME_BYTES: ',
      'AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWT_PUBLIC_KEY: one is required',
      'SECRETS_KEY: required in production mode',
      'CORS_ORIGINS: "*" is not an origin',
    ]) {
      expect(out).toContain(`  ${name}`);
    }
    expect(out).not.toContain('REDIS_URL');
  });

  it('refuses a database whose migrations are behind, saying what to run', async () => {
    const name = await createDatabaseBehindMigrations();
    try {
      const p = start({ DATABASE_URL: urlForDatabase(name) });
      expect(await p.kill('SIGCONT')).toBe(1);
      const fatal = lines(p.output()).find((l) => l.level === 'fatal');
      expect(fatal?.msg).toMatch(/^failed to start: database schema is behind \(applied \d+ of \d+ migrations\); run npm run db:migrate$/);
      expect(p.output()).not.toContain('gateway listening');
    } finally {
      await dropTestDatabase(name);
    }
  });

  it('starts without PostgreSQL: the edge answers, the warning says what is missing, SIGTERM exits 0', async () => {
    const p = start({ DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/parley' });
    await p.waitForOutput('gateway listening', 20_000);
    const listening = lines(p.output()).find((l) => typeof l.msg === 'string' && l.msg.startsWith('gateway listening'));
    const port = listening?.port as number;
    const metricsPort = listening?.metricsPort as number;
    expect(port).toBeGreaterThan(0);
    expect(metricsPort).toBeGreaterThan(0);
    expect(metricsPort).not.toBe(port);
    expect(lines(p.output()).map((l) => l.msg)).toContain('PostgreSQL is not reachable at start; chatwoot inboxes come from env until it is');

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks).toEqual({ shutdown: 'ok', redis: 'ok', bus: 'ok', worker: 'ok' });
    // /metrics only on the internal port.
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    expect(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).toContain('parley_gateway_');

    expect(await p.kill('SIGTERM')).toBe(0);
    expect(lines(p.output()).at(-1)?.msg).toBe('stopped');
    expect(p.output()).not.toContain('hunter2');
  });
});
