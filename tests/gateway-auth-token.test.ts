/**
 * `npm run token`: the CLI run as a user runs it (a child process, env and .env as given), and its
 * tokens checked by a running gateway built in-process with the same variables.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deletePrefix, newRedis, uniquePrefix } from '@parley/testing';
import { startGateway, type RunningGateway } from './support/gateway-env.js';

const root = fileURLToPath(new URL('../', import.meta.url));
// `--import tsx` resolves from the working directory, and these runs work in a directory of their own.
const TSX = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const SECRET = 'token-cli-secret-0123456789abcdef0123456';
const GATEWAY_ENV = { AUTH_JWT_SECRET: SECRET, AUTH_JWT_ISSUER: 'https://parley.test', AUTH_JWT_AUDIENCE: 'parley-api', AUTH_CLOCK_TOLERANCE_S: '0' };

let prefix: string;
let gw: RunningGateway;

beforeAll(async () => {
  prefix = uniquePrefix('tokencli');
  gw = await startGateway(prefix, GATEWAY_ENV);
});

afterAll(async () => {
  await gw?.close();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as `npm run token -- …` runs it, in `cwd` (where it looks for .env), with exactly `env` for the AUTH_* variables. */
function cli(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'token-cli-'))): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AUTH_')));
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', TSX, join(root, 'scripts/token.ts'), ...args], { cwd, env: { ...clean, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The answer's body, or its `error` when it is one (the gateway's one error shape). */
async function status(path: string, token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.http}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const json = (await res.json()) as { error?: Record<string, unknown> } & Record<string, unknown>;
  return { status: res.status, body: res.ok ? json : (json.error ?? {}) };
}

describe('npm run token', () => {
  test('a minted token is accepted by the gateway with its tenant, subject and roles', async () => {
    const run = await cli(['--tenant', 'acme', '--sub', 'alice', '--role', 'admin', '--role', 'operator', '--ttl', '30m'], GATEWAY_ENV);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(run.stderr).toContain('token for alice in tenant acme, roles: admin, operator');
    const principal = await gw.gw.ctx.verifier.verify(token);
    expect(principal).toMatchObject({ userId: 'alice', tenantId: 'acme', roles: ['admin', 'operator'] });
    expect(principal.validUntil - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(principal.validUntil - Date.now()).toBeLessThanOrEqual(30 * 60_000);
  });

  test('without a role it is a plain user: signed in, refused the staff routes', async () => {
    const run = await cli(['--tenant', 'acme', '--sub', 'bob'], GATEWAY_ENV);
    expect(run.code).toBe(0);
    const res = await status('/api/v1/stats', run.stdout.trim());
    expect(res.status).toBe(403);
    expect(res.body['message']).toBe('this route needs the operator or admin role');
  });

  test('it reads the secret, issuer and audience from .env when the environment lacks them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'token-cli-env-'));
    writeFileSync(
      join(dir, '.env'),
      Object.entries(GATEWAY_ENV)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const run = await cli(['--tenant', 'acme', '--sub', 'carol'], {}, dir);
    expect(run.code).toBe(0);
    expect(await gw.gw.ctx.verifier.verify(run.stdout.trim())).toMatchObject({ userId: 'carol', tenantId: 'acme', roles: [] });
    // The environment wins over the file, as for the gateway: another secret mints a token this gateway refuses.
    const other = await cli(['--tenant', 'acme', '--sub', 'carol'], { AUTH_JWT_SECRET: 'another-secret-0123456789abcdef012345' }, dir);
    expect((await status('/api/v1/stats', other.stdout.trim())).status).toBe(401);
  });

  test('a token past its ttl is refused as expired', async () => {
    const run = await cli(['--tenant', 'acme', '--sub', 'dave', '--ttl', '3s'], GATEWAY_ENV);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(3);
    await expect.poll(async () => (await status('/api/v1/stats', token)).body['details'], { timeout: 10_000, interval: 250 }).toEqual({ reason: 'expired' });
  });

  test('refusals: no secret, unknown flag, missing or bad arguments; --help', async () => {
    const noSecret = await cli(['--tenant', 'acme', '--sub', 'alice']);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stdout).toBe('');
    expect(noSecret.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^token: AUTH_JWT_SECRET is not set/)]);

    const unknown = await cli(['--tenant', 'acme', '--sub', 'alice', '--tennant', 'x'], GATEWAY_ENV);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("'--tennant'");

    const noTenant = await cli(['--sub', 'alice'], GATEWAY_ENV);
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toContain('--tenant is required');

    for (const [ttl, why] of [
      ['soon', 'is not a duration'],
      ['0', 'at least 1 second'],
      ['400d', 'at most 365d'],
    ]) {
      const bad = await cli(['--tenant', 'acme', '--sub', 'alice', '--ttl', ttl!], GATEWAY_ENV);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(why);
    }

    const short = await cli(['--tenant', 'acme', '--sub', 'alice'], { AUTH_JWT_SECRET: 'too-short' });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('shorter than 32 characters');

    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run token -- --tenant <tenant> --sub <user id>');
  }, 60_000);
});
