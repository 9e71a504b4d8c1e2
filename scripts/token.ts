// npm run token -- --tenant <t> --sub <user> [--role admin …] [--ttl 1h]: mints an HS256 token that a gateway with
// AUTH_JWT_SECRET accepts. The secret, issuer, audience and claim names come from the environment, else from .env
// (the file docker compose reads), so the token carries exactly what the gateway checks.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, parseEnv } from 'node:util';
import { SignJWT } from 'jose';

const usage = `usage: npm run token -- --tenant <tenant> --sub <user id> [--role <role>]… [--ttl <duration>] [--env-file <path>]
  --tenant    the tenant the token belongs to (required)
  --sub       the user id (required)
  --role      a role, repeatable: admin, operator, or any of yours (default: none, a plain user)
  --ttl       lifetime: 3600, 90s, 30m, 1h, 7d (default 1h, at most 365d)
  --env-file  where to read the variables below when the environment lacks them (default .env)
env: AUTH_JWT_SECRET (required), AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE, AUTH_TENANT_CLAIM (tenant_id), AUTH_ROLES_CLAIM (roles)
The token is printed alone on stdout; what it holds goes to stderr.`;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_S = 365 * 86_400;

/** Seconds, or a reason the value is not a lifetime. */
function parseTtl(raw: string): number | string {
  const m = /^(\d+)([smhd]?)$/.exec(raw.trim());
  if (!m) return `"${raw}" is not a duration; use e.g. 3600, 90s, 30m, 1h or 7d`;
  const seconds = Number(m[1]) * (UNITS[m[2] || 's'] ?? 1);
  if (seconds < 1) return 'must be at least 1 second';
  if (seconds > MAX_TTL_S) return 'must be at most 365d; a long-lived token is a password that cannot be changed';
  return seconds;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  let values: { tenant?: string; sub?: string; role?: string[]; ttl?: string; 'env-file'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        tenant: { type: 'string' },
        sub: { type: 'string' },
        role: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        'env-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // node:util names the offending flag in its message ("Unknown option '--x'").
    throw new UsageError(`${(err as Error).message.split('\n')[0]}; see npm run token -- --help`);
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.tenant) throw new UsageError('--tenant is required (the tenant the token belongs to); see npm run token -- --help');
  if (!values.sub) throw new UsageError('--sub is required (the user id); see npm run token -- --help');
  if (values.tenant.length > 128) throw new UsageError('--tenant: at most 128 characters (the gateway refuses longer ones)');
  if (values.sub.length > 256) throw new UsageError('--sub: at most 256 characters (the gateway refuses longer ones)');
  const ttl = parseTtl(values.ttl ?? '1h');
  if (typeof ttl === 'string') throw new UsageError(`--ttl ${ttl}`);

  const env = readEnv(values['env-file'] ?? '.env', values['env-file'] !== undefined);
  const secret = env['AUTH_JWT_SECRET'];
  if (!secret) {
    throw new UsageError(
      "AUTH_JWT_SECRET is not set (environment or .env): it is the gateway's HS256 secret; a gateway on AUTH_JWKS_URL takes its tokens from your identity provider",
    );
  }
  if (secret.length < 32) throw new UsageError('AUTH_JWT_SECRET: shorter than 32 characters, so the gateway refuses to start with it');
  const tenantClaim = env['AUTH_TENANT_CLAIM'] || 'tenant_id';
  const rolesClaim = env['AUTH_ROLES_CLAIM'] || 'roles';
  const roles = values.role ?? [];

  let jwt = new SignJWT({ [tenantClaim]: values.tenant, [rolesClaim]: roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`);
  if (env['AUTH_JWT_ISSUER']) jwt = jwt.setIssuer(env['AUTH_JWT_ISSUER']);
  if (env['AUTH_JWT_AUDIENCE']) jwt = jwt.setAudience(env['AUTH_JWT_AUDIENCE']);
  const token = await jwt.sign(new TextEncoder().encode(secret));
  const expires = new Date(Date.now() + ttl * 1000).toISOString();
  console.error(`token for ${values.sub} in tenant ${values.tenant}, roles: ${roles.join(', ') || '(none)'}, expires ${expires}`);
  console.log(token);
  return 0;
}

/** The process environment first (as the gateway sees it), then the file for what it lacks. */
function readEnv(path: string, named: boolean): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (!existsSync(path)) {
    if (named) throw new UsageError(`--env-file ${path}: no such file`);
    return env;
  }
  for (const [k, v] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) if (env[k] === undefined || env[k] === '') env[k] = v;
  return env;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError ? `token: ${err.message}` : err);
    process.exit(1);
  },
);
