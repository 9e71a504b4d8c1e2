/**
 * Test support for the gateway: the real conversation and agent-execution services as child
 * processes on a test-unique bus prefix and database, the dev model server over HTTP, gateways
 * built in-process on random ports, and token minting for every auth case.
 */
import { fileURLToPath } from 'node:url';
import { createHmac, createSign, type KeyObject } from 'node:crypto';
import { createTestDatabase, dropTestDatabase, spawnTs, testRedisEnv, urlForDatabase, watchRedisRouting, type TsProcess } from '@parley/testing';
import { startDevModelServer, type DevModelServer } from '../../packages/llm/src/dev-server/index.js';
import { gatewayWiring, type Gateway } from '../../apps/gateway/src/wiring.js';
import { env } from '../../apps/gateway/src/env.js';
import { createLogger, startService } from '../../packages/service-kit/src/index.js';
import { WebSocket } from 'ws';

export const SECRET = 'test-secret-0123456789abcdef0123456789';
const root = fileURLToPath(new URL('../../', import.meta.url));

export { WebSocket };
export type RawWs = InstanceType<typeof WebSocket>;

export interface Services {
  model: DevModelServer;
  /** Each started service's health port (/healthz, /readyz, /metrics), from its `ready` line. */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

export async function startServices(
  prefix: string,
  databaseUrl: string,
  opts: { query?: boolean; migration?: boolean; env?: Record<string, string> } = {},
): Promise<Services> {
  const model = await startDevModelServer({ tokenDelayMs: 0 });
  const env = {
    ...testRedisEnv(),
    DATABASE_URL: databaseUrl,
    BUS_PREFIX: prefix,
    MODEL_BASE_URL: model.url,
    MODEL_NAME: 'parley-dev',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    PARLEY_MODE: 'dev',
    SHUTDOWN_GRACE_MS: '2000',
    ...opts.env,
  };
  // app → the short name its INSTANCE_ID starts with
  const instances: Record<string, string> = { conversation: 'conv', 'agent-execution': 'agent', query: 'query', migration: 'migration' };
  const apps = ['conversation', 'agent-execution', ...(opts.query ? ['query'] : []), ...(opts.migration ? ['migration'] : [])];
  const procs: TsProcess[] = apps.map((app) => spawnTs(`${root}apps/${app}/src/main.ts`, { ...env, INSTANCE_ID: `${instances[app]}-${prefix}` }));
  // Three tsx processes compiling at once on a shared 2-core machine can take well over 30 s to be ready.
  await Promise.all(procs.map((p) => p.waitForOutput('"msg":"ready"', 120_000)));
  const ports = Object.fromEntries(apps.map((app, i) => [app, Number(/"httpPort":(\d+)/.exec(procs[i]!.output())?.[1])]));
  return {
    model,
    ports,
    async stop() {
      await Promise.all(procs.map((p) => p.kill('SIGTERM')));
      await model.close();
    },
  };
}

export interface RunningGateway {
  gw: Gateway;
  http: string;
  ws: string;
  /** The internal port's base URL: /metrics, /healthz, /readyz. */
  metrics: string;
  close(): Promise<void>;
}

export interface GatewayOpts {
  /** Collects the gateway's log lines (parsed JSON), at `info` and above. */
  logs?: Array<Record<string, unknown>>;
}

export async function startGateway(prefix: string, vars: Record<string, string> = {}, opts: GatewayOpts = {}): Promise<RunningGateway> {
  // Without a DATABASE_URL the gateway would open the default one: the developer's (`npm start`), maybe at other migrations.
  const ownDb = vars['DATABASE_URL'] ? null : await createTestDatabase();
  const parsed = env.parse('gateway', {
    ...(ownDb ? { DATABASE_URL: urlForDatabase(ownDb) } : {}),
    ...testRedisEnv(),
    BUS_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    PARLEY_MODE: 'dev',
    AUTH_JWT_SECRET: SECRET,
    SHUTDOWN_GRACE_MS: '2000',
    // Tests start runs and send frames in bursts as one user; tests of the limits set their own.
    RUNS_PER_MINUTE: '100000',
    WS_FRAMES_PER_MINUTE: '100000',
    ...vars,
  });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  // On a cluster, warnings are read for routing errors (tests/cluster-env.ts) even when the test collects no log.
  const onCluster = testRedisEnv().REDIS_CLUSTER_NODES !== undefined;
  const level = (opts.logs ? 'info' : (process.env['TEST_LOG_LEVEL'] ?? (onCluster ? 'warn' : 'silent'))) as 'silent';
  const sink = opts.logs;
  const destination =
    sink || onCluster
      ? {
          write: (line: string) => {
            watchRedisRouting(line);
            if (sink) sink.push(JSON.parse(line) as Record<string, unknown>);
            else if (process.env['TEST_LOG_LEVEL']) process.stdout.write(line);
          },
        }
      : undefined;
  const log = createLogger({ service: 'gateway', instance: 'test', level, ...(destination ? { destination } : {}) });
  // The definition main.ts hands runService, run in this process (several gateways per test file).
  const wiring = gatewayWiring();
  const base = { ...parsed.base, instance: `gw-${Math.random().toString(36).slice(2, 8)}` };
  const running = await startService(
    { name: 'gateway', env, service: 'gateway', healthPort: (config) => config.metrics.port, handlers: wiring.wire, start: wiring.listen },
    { base, config: parsed.config, log },
  );
  const gw = wiring.gateway;
  if (!gw) throw new Error('gateway not built');
  const address = gw.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    gw,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/ws/chat`,
    metrics: `http://127.0.0.1:${running.httpPort}`,
    close: async () => {
      await running.stop();
      if (ownDb) await dropTestDatabase(ownDb);
    },
  };
}

export interface TokenOpts {
  sub?: string;
  tenant?: string;
  roles?: string[];
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  /** HS256 with this secret (default SECRET), or RS256 with `rsaKey`, or `none`. */
  alg?: 'HS256' | 'RS256' | 'none';
  secret?: string | Buffer;
  rsaKey?: KeyObject;
  claims?: Record<string, unknown>;
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * Tokens are minted by hand (not with the gateway's own jose) so the tests can also make the
 * malicious ones: `alg: none`, or HS256 signed with the RSA public key as the HMAC secret.
 */
export function token(o: TokenOpts = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const alg = o.alg ?? 'HS256';
  const header = b64({ alg, typ: 'JWT' });
  const payload = b64({ sub: o.sub ?? 'u1', tenant_id: o.tenant ?? 't1', roles: o.roles ?? [], iat: now, exp: now + (o.expiresIn ?? 600), ...o.claims });
  const input = `${header}.${payload}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'RS256') {
    if (!o.rsaKey) throw new Error('RS256 needs rsaKey');
    return `${input}.${createSign('RSA-SHA256').update(input).sign(o.rsaKey).toString('base64url')}`;
  }
  return `${input}.${createHmac('sha256', o.secret ?? SECRET)
    .update(input)
    .digest('base64url')}`;
}

/** A raw socket with every frame it got, for protocol-level tests. */
export function rawSocket(url: string): {
  ws: RawWs;
  frames: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
} {
  const ws = new WebSocket(url);
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, frames, closed, opened };
}
