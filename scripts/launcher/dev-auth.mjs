// In dev mode with no auth key configured the gateway refuses to start; the launcher gives it a dev
// secret (kept in .parley/ so tokens survive a restart) and turns dev tokens on, and says so.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function devAuth(root, env, say) {
  if (env.PARLEY_MODE === 'production') return {};
  if (env.AUTH_JWT_SECRET || env.AUTH_JWKS_URL || env.AUTH_JWT_PUBLIC_KEY) return {};
  const file = join(root, '.parley', 'dev-jwt-secret');
  let secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (secret.length < 32) {
    secret = randomBytes(32).toString('hex');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, secret, { mode: 0o600 });
  }
  say('no AUTH_* key configured: dev login on (POST /api/v1/dev/token), tokens signed with .parley/dev-jwt-secret');
  return { AUTH_JWT_SECRET: secret, AUTH_DEV_TOKENS: env.AUTH_DEV_TOKENS ?? 'true' };
}
