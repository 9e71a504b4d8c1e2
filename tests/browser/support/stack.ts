/**
 * Everything the browser talks to, for real: conversation, agent-execution and query services and
 * the gateway as child processes on a test-unique bus prefix and database, and the dev model server
 * with a small token delay so streaming is visible. The gateway serves the built UI at `/`.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, redisUrl, spawnTs, uniquePrefix, urlForDatabase, type TsProcess } from '@parley/testing';
import { startDevModelServer, type DevModelServer } from '../../../packages/llm/src/dev-server/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SECRET = 'browser-test-secret-0123456789abcdef0123';

export interface Stack {
  url: string;
  /** Every gateway replica's address (`url` is the first). */
  urls: string[];
  prefix: string;
  model: DevModelServer;
  hasQuery: boolean;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * `gateway`: variables for the gateway only, over the stack's (e.g. OIDC sign-in instead of dev tokens).
 * `replicas`: how many gateways share the bus and database (1 unless a test is about crossing replicas).
 */
export async function startStack(name: string, opts: { gateway?: Record<string, string>; replicas?: number } = {}): Promise<Stack> {
  const prefix = uniquePrefix(name);
  const db = await createTestDatabase();
  const model = await startDevModelServer({ tokenDelayMs: 20 });
  const env = {
    REDIS_URL: redisUrl,
    DATABASE_URL: urlForDatabase(db),
    BUS_PREFIX: prefix,
    MODEL_BASE_URL: model.url,
    MODEL_NAME: 'parley-dev',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    PARLEY_MODE: 'dev',
    SHUTDOWN_GRACE_MS: '2000',
  };
  const hasQuery = existsSync(`${root}apps/query/src/main.ts`);
  const services: TsProcess[] = [
    spawnTs(`${root}apps/conversation/src/main.ts`, { ...env, INSTANCE_ID: `conv-${prefix}` }),
    spawnTs(`${root}apps/agent-execution/src/main.ts`, { ...env, INSTANCE_ID: `agent-${prefix}` }),
  ];
  if (hasQuery) services.push(spawnTs(`${root}apps/query/src/main.ts`, { ...env, INSTANCE_ID: `query-${prefix}` }));
  const gateways = Array.from({ length: opts.replicas ?? 1 }, (_, i) =>
    spawnTs(`${root}apps/gateway/src/main.ts`, {
      ...env,
      INSTANCE_ID: `gw-${i}-${prefix}`,
      AUTH_JWT_SECRET: SECRET,
      AUTH_DEV_TOKENS: 'true',
      ...opts.gateway,
    }),
  );
  const all = [...services, ...gateways];
  const stop = async () => {
    await Promise.all(all.map((p) => p.kill('SIGTERM')));
    await model.close();
    const r = newRedis();
    await deletePrefix(r, prefix).finally(() => r.disconnect());
    await dropTestDatabase(db);
  };
  try {
    // Generous: on a shared 2-core machine under another suite's load, tsx start-up alone can take a minute.
    await Promise.all(services.map((p) => p.waitForOutput('"msg":"ready"', 120_000)));
    await Promise.all(gateways.map((g) => g.waitForOutput('gateway listening on', 60_000)));
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = gateways.map((g) => {
    const port = /gateway listening on http:\/\/[^:]+:(\d+)/.exec(g.output())?.[1];
    if (!port) throw new Error(`no port in the gateway's output:\n${g.output()}`);
    return `http://127.0.0.1:${port}`;
  });
  return { url: urls[0]!, urls, prefix, model, hasQuery, logs: () => all.map((p) => p.output()).join('\n'), stop };
}

/** An HS256 token the stack's gateway accepts (or, with a past `expiresIn`, rejects as expired). */
export function mintToken(o: { sub: string; roles?: string[]; expiresIn?: number }): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: o.sub, tenant_id: 'dev', roles: o.roles ?? [], iat: now, exp: now + (o.expiresIn ?? 600) })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}
