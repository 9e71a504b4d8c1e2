import { fileURLToPath } from 'node:url';
import { spawnTs } from '@parley/testing';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { formatConfigProblems } from './config-problems.js';
import { defineEnv, envBool, safeUrl } from './env.js';

const fixture = (name: string) => fileURLToPath(new URL(`../test-fixtures/${name}`, import.meta.url));

describe('defineEnv', () => {
  const env = defineEnv({ MAX_TOKENS: z.coerce.number().int().positive().default(3000), STREAMING: envBool(false), API_KEY: z.string().min(1) }, (e) => ({
    maxTokens: e.MAX_TOKENS,
    streaming: e.STREAMING,
    apiKey: e.API_KEY,
  }));

  test('applies the base defaults and groups the service config', () => {
    const r = env.parse('conversation', { API_KEY: 'k' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.base).toMatchObject({
      service: 'conversation',
      redisUrl: 'redis://127.0.0.1:6379',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/parley',
      busPrefix: 'parley',
      logLevel: 'info',
      mode: 'dev',
      http: { port: 0, host: '127.0.0.1' },
    });
    expect(r.base.instance).toMatch(/^conversation-/);
    expect(r.config).toEqual({ maxTokens: 3000, streaming: false, apiKey: 'k' });
  });

  test("HTTP_HOST: loopback in dev mode unless set; every interface in production; the operator's value wins", () => {
    const host = (vars: Record<string, string>) => {
      const r = env.parse('x', { API_KEY: 'k', ...vars });
      return r.ok ? r.base.http.host : r.problems.join('; ');
    };
    expect(host({})).toBe('127.0.0.1');
    expect(host({ PARLEY_MODE: 'production' })).toBe('0.0.0.0');
    expect(host({ NODE_ENV: 'production' })).toBe('0.0.0.0');
    expect(host({ HTTP_HOST: '0.0.0.0' })).toBe('0.0.0.0');
    expect(host({ PARLEY_MODE: 'production', HTTP_HOST: '10.1.2.3' })).toBe('10.1.2.3');
  });

  test("REDIS_CLUSTER_NODES: unset is REDIS_URL; set is a cluster of those seeds with REDIS_URL's user, password and TLS; malformed is a problem", () => {
    const target = (vars: Record<string, string>) => {
      const r = env.parse('x', { API_KEY: 'k', ...vars });
      return r.ok ? r.base.redis : r.problems.join('; ');
    };
    expect(target({ REDIS_URL: 'redis://cache:6379' })).toBe('redis://cache:6379');
    expect(target({ REDIS_CLUSTER_NODES: 'r1:7000, r2:7001' })).toEqual({
      cluster: [
        { host: 'r1', port: 7000 },
        { host: 'r2', port: 7001 },
      ],
    });
    expect(target({ REDIS_URL: 'rediss://app:s%3Acret@cache:6380', REDIS_CLUSTER_NODES: 'r1:7000' })).toEqual({
      cluster: [{ host: 'r1', port: 7000 }],
      nodeOptions: { username: 'app', password: 's:cret', tls: {} },
    });
    expect(target({ REDIS_CLUSTER_NODES: 'r1' })).toMatch(/^REDIS_CLUSTER_NODES: expected host:port,host:port/);
    expect(target({ REDIS_CLUSTER_NODES: 'r1:7000,,r2:7001' })).toMatch(/^REDIS_CLUSTER_NODES: /);
  });

  test('parses booleans on purpose: "false" is false, "maybe" is a problem', () => {
    const no = env.parse('x', { API_KEY: 'k', STREAMING: 'false' });
    expect(no.ok && no.config.streaming).toBe(false);
    const yes = env.parse('x', { API_KEY: 'k', STREAMING: 'YES' });
    expect(yes.ok && yes.config.streaming).toBe(true);
    const bad = env.parse('x', { API_KEY: 'k', STREAMING: 'maybe' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems).toEqual([expect.stringMatching(/^STREAMING: expected true or false/)]);
  });

  test('lists every problem, treats blank as unset, never echoes values', () => {
    const r = env.parse('x', { API_KEY: ' ', MAX_TOKENS: 'lots', HTTP_PORT: '70000', REDIS_URL: 'http://secret@h', PARLEY_MODE: 'prod' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(5);
    expect(r.problems.join('\n')).toContain('API_KEY: is required');
    expect(r.problems.join('\n')).not.toContain('secret');
    for (const name of ['MAX_TOKENS', 'HTTP_PORT', 'REDIS_URL', 'PARLEY_MODE']) expect(r.problems.some((p) => p.startsWith(`${name}: `))).toBe(true);
  });

  test('production mode follows NODE_ENV unless PARLEY_MODE says otherwise', () => {
    const prod = env.parse('x', { API_KEY: 'k', NODE_ENV: 'production' });
    expect(prod.ok && prod.base.mode).toBe('production');
    const dev = env.parse('x', { API_KEY: 'k', NODE_ENV: 'production', PARLEY_MODE: 'dev' });
    expect(dev.ok && dev.base.mode).toBe('dev');
  });

  test('rules across variables are judged with the schema, and with the broken variables left out', () => {
    const ruled = defineEnv(
      { MODEL_NAME: z.string().min(1).optional(), MAX_TOKENS: z.coerce.number().int().positive().default(3000) },
      (e) => ({ model: e.MODEL_NAME, maxTokens: e.MAX_TOKENS }),
      (c, base) => [
        ...(base.mode === 'production' && !c.model ? ['MODEL_NAME: is required in production mode'] : []),
        ...(c.maxTokens > 4000 ? ['MAX_TOKENS and MODEL_NAME: more than 4000 tokens needs a larger model'] : []),
      ],
    );
    expect(ruled.parse('x', {}).ok).toBe(true);
    const onlyRule = ruled.parse('x', { PARLEY_MODE: 'production' });
    expect(onlyRule).toEqual({ ok: false, problems: ['MODEL_NAME: is required in production mode'] });
    // LOG_LEVEL is broken and a rule is broken: both are listed. A rule about a broken variable is not repeated.
    const both = ruled.parse('x', { PARLEY_MODE: 'production', LOG_LEVEL: 'loud', MAX_TOKENS: '-1' });
    expect(both.ok).toBe(false);
    if (both.ok) return;
    expect(both.problems.map((p) => p.split(':')[0]).sort()).toEqual(['LOG_LEVEL', 'MAX_TOKENS', 'MODEL_NAME']);
  });

  test('formatConfigProblems: one header with the count, one line per problem', () => {
    expect(formatConfigProblems('query', ['A: is required', 'B: expected a number'])).toBe(
      'query: invalid configuration (2 problems):\n  A: is required\n  B: expected a number\n',
    );
    expect(formatConfigProblems('query', ['A: is required'])).toBe('query: invalid configuration (1 problem):\n  A: is required\n');
  });

  test('safeUrl hides passwords', () => {
    expect(safeUrl('redis://:hunter2@cache:6379')).not.toContain('hunter2');
    expect(safeUrl('postgres://postgres@127.0.0.1:5432/parley')).toBe('postgres://postgres@127.0.0.1:5432/parley');
    expect(safeUrl('postgres://app:s3cret@db:5432/parley')).toBe('postgres://***@db:5432/parley');
    expect(safeUrl('not a url')).toBe('(unparseable URL)');
  });
});

describe('loadEnv in a process', () => {
  test('prints every problem on its own line and exits 1', async () => {
    const p = spawnTs(fixture('bad-env.ts'), {
      CHATWOOT_BASE_URL: 'not a url',
      RATE_LIMIT_PER_MIN: '-3',
      STRICT_SIGNATURES: 'perhaps',
      HTTP_PORT: 'eighty',
    });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines[0]).toBe('fixture: invalid configuration (4 problems):');
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['CHATWOOT_BASE_URL', 'HTTP_PORT', 'RATE_LIMIT_PER_MIN', 'STRICT_SIGNATURES']);
    expect(p.output()).not.toContain('perhaps');
  });

  test('lists broken variables and broken rules together, in one run', async () => {
    const p = spawnTs(fixture('bad-env.ts'), {
      PARLEY_MODE: 'production',
      CHATWOOT_BASE_URL: 'https://chat.example.com',
      RATE_LIMIT_PER_MIN: 'many',
      HTTP_PORT: 'eighty',
    });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = p.output().trim().split('\n');
    expect(lines[0]).toBe('fixture: invalid configuration (3 problems):');
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['HTTP_PORT', 'RATE_LIMIT_PER_MIN', 'WEBHOOK_SECRET']);
  });

  test('starts when the env is valid', async () => {
    const p = spawnTs(fixture('bad-env.ts'), { CHATWOOT_BASE_URL: 'https://chat.example.com', RATE_LIMIT_PER_MIN: '60', STRICT_SIGNATURES: 'off' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).toBe(0);
    const loaded = JSON.parse(p.output().replace(/^loaded fixture /, '')) as Record<string, unknown>;
    expect(loaded).toMatchObject({ CHATWOOT_BASE_URL: 'https://chat.example.com', RATE_LIMIT_PER_MIN: 60, STRICT_SIGNATURES: false });
  });
});
