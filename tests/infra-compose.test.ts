/**
 * docker-compose.yml, alone and with docker-compose.cluster.yml over it, read as Docker Compose would
 * after interpolating .env.example (tests/support/compose.ts): no engine runs here, so the invariants a
 * broken `docker compose up` would reveal are checked on the files themselves.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { redisTargetOf } from '../packages/service-kit/src/env.js';
import { activeServices, dotenv, interpolate, mergeCompose, parseCompose, publishedPorts } from './support/compose.js';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Each runnable app's env definition (the zod shape its env.ts parses process.env with). */
const envModules: Record<string, () => Promise<{ schema: { shape: object } }>> = {
  gateway: async () => (await import('../apps/gateway/src/env.js')).env,
  'agent-execution': async () => (await import('../apps/agent-execution/src/env.js')).env,
  conversation: async () => (await import('../apps/conversation/src/env.js')).env,
  query: async () => (await import('../apps/query/src/env.js')).env,
  migration: async () => (await import('../apps/migration/src/env.js')).env,
};

/** Apps the launcher starts: a folder under apps/ whose package.json has a `start` script. */
const runnableApps = readdirSync(join(root, 'apps')).filter((name) => {
  const pkg = join(root, 'apps', name, 'package.json');
  return existsSync(pkg) && typeof JSON.parse(readFileSync(pkg, 'utf8')).scripts?.start === 'string';
});

const secretName = /PASSWORD|SECRET|_TOKEN$|API_KEY/;
const envExample = dotenv(read('.env.example'));
const raw = parse(read('docker-compose.yml'), { merge: true });
const compose = parse(interpolate(read('docker-compose.yml'), envExample), { merge: true });
const services: Record<string, any> = compose.services;

describe('docker-compose.yml', () => {
  test('every runnable app has a service built from the one Dockerfile with its SERVICE', () => {
    expect(runnableApps.sort()).toEqual(Object.keys(envModules).sort());
    for (const app of runnableApps) {
      expect(services[app], `no compose service for apps/${app}`).toBeDefined();
      expect(services[app].build).toMatchObject({ dockerfile: 'infra/docker/Dockerfile', args: { SERVICE: app } });
    }
  });

  test.each(Object.keys(envModules))('%s: environment names are variables of its env schema', async (app) => {
    const schemaKeys = new Set(Object.keys((await envModules[app]!()).schema.shape));
    const names = Object.keys(services[app].environment);
    expect(
      names.filter((n) => !schemaKeys.has(n)),
      `not in apps/${app}/src/env.ts`,
    ).toEqual([]);
    for (const needed of ['REDIS_URL', 'DATABASE_URL', 'HTTP_PORT', 'BUS_PREFIX']) expect(names).toContain(needed);
  });

  test('app services: replicas, healthcheck on /healthz at HTTP_PORT, wait for the migration', () => {
    for (const app of runnableApps) {
      const s = services[app];
      expect(Number.isInteger(Number(s.deploy.replicas)) && Number(s.deploy.replicas) >= 1, `${app} replicas`).toBe(true);
      expect(s.container_name, `${app}: container_name forbids --scale`).toBeUndefined();
      expect(s.healthcheck.test.join(' ')).toContain(`127.0.0.1:${s.environment.HTTP_PORT}/healthz`);
      expect(s.depends_on).toMatchObject({
        redis: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(s.environment.BUS_PREFIX).toBe('parley');
    }
  });

  test('every service, Redis and PostgreSQL included, has a healthcheck (the migrate job runs once)', () => {
    for (const [name, s] of Object.entries(services)) {
      if (name === 'migrate') continue;
      expect(s.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
    }
  });

  test('Redis: AOF fsynced every second, noeviction, and 7+ (KEDA reads lag from XINFO GROUPS)', () => {
    const cmd = [services.redis.command].flat().join(' ');
    expect(cmd).toMatch(/--appendonly yes\b/);
    expect(cmd).toMatch(/--appendfsync everysec\b/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction\b/);
    expect(Number(/^redis:(\d+)/.exec(services.redis.image)?.[1])).toBeGreaterThanOrEqual(7);
  });

  test('the migrate job runs packages/db migrations once against the same database', () => {
    const m = services.migrate;
    expect(m.restart).toBe('no');
    expect(m.command).toEqual(['node', 'node_modules/@parley/db/dist/migrate-cli.js']);
    expect(existsSync(join(root, 'packages/db/src/migrate-cli.ts'))).toBe(true);
    expect(Object.keys(m.environment)).toEqual(['DATABASE_URL']);
    expect(m.environment.DATABASE_URL).toBe(services.conversation.environment.DATABASE_URL);
    expect(m.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
  });

  test('no secret is written in the file: secret-looking values come from .env', () => {
    for (const [name, s] of Object.entries<any>(raw.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (secretName.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/);
        const literal = String(value).replace(/\$\{[^}]*\}/g, '');
        if (key.endsWith('_URL')) expect(literal, `${name}.${key}: a password in a URL`).not.toMatch(/:\/\/[^@/]*:[^@/]+@/);
      }
    }
  });

  test('.env.example holds placeholders only, and no .env is tracked', () => {
    for (const [key, value] of Object.entries(envExample)) {
      if (secretName.test(key)) expect(value, key).toMatch(/^(|change-me[a-z0-9-]*)$/);
    }
    const tracked = execFileSync('git', ['ls-files', '--', '.env', '*/.env', '.env.*'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(tracked.filter((f) => !f.endsWith('.env.example'))).toEqual([]);
  });
});

describe('docker-compose.cluster.yml over docker-compose.yml (the cluster profile)', () => {
  const clusterRaw = parseCompose(read('docker-compose.cluster.yml')) as { services: Record<string, any> };
  const merged = mergeCompose(compose, parseCompose(interpolate(read('docker-compose.cluster.yml'), envExample, 'docker-compose.cluster.yml'))) as {
    services: Record<string, any>;
    volumes: Record<string, unknown>;
  };
  const running = activeServices(merged);
  const nodeNames = Object.keys(merged.services).filter((n) => /^redis-node-\d+$/.test(n));
  const nodeCommand = (name: string) => [merged.services[name].command].flat().join(' ');

  test('six Redis 7+ nodes, cluster-enabled, AOF and noeviction like the single Redis, each with its own volume and password', () => {
    expect(nodeNames.sort()).toEqual(['redis-node-1', 'redis-node-2', 'redis-node-3', 'redis-node-4', 'redis-node-5', 'redis-node-6']);
    const volumes = new Set<string>();
    for (const name of nodeNames) {
      const node = merged.services[name];
      const cmd = nodeCommand(name);
      expect(Number(/^redis:(\d+)/.exec(node.image)?.[1]), name).toBeGreaterThanOrEqual(7);
      expect(cmd).toMatch(/--cluster-enabled yes\b/);
      expect(cmd).toMatch(/--appendonly yes\b/);
      expect(cmd).toMatch(/--maxmemory-policy noeviction\b/);
      // A replica authenticates to its master with the same password the clients use.
      expect(cmd).toMatch(/--requirepass "\$REDIS_PASSWORD"/);
      expect(cmd).toMatch(/--masterauth "\$REDIS_PASSWORD"/);
      // The announced hostname is the service name, which every container on the network resolves.
      expect(cmd).toMatch(/--cluster-announce-hostname "\$NODE_NAME" --cluster-preferred-endpoint-type hostname/);
      expect(node.environment.NODE_NAME).toBe(name);
      expect(node.environment.REDIS_PASSWORD).toBe(envExample.REDIS_PASSWORD);
      expect(node.healthcheck.test.join(' ')).toContain('redis-cli ping');
      const [data] = node.volumes as string[];
      expect(data).toMatch(/:\/data$/);
      volumes.add(data!.split(':')[0]!);
    }
    expect(volumes.size, 'one volume per node: nodes.conf is a node identity').toBe(6);
    for (const v of volumes) expect(merged.volumes).toHaveProperty(v);
  });

  test('a one-shot init waits for all six nodes and creates 3 masters with a replica each, only if not created yet', () => {
    const init = merged.services['redis-cluster-init'];
    expect(init.restart).toBe('no');
    expect(init.depends_on).toEqual(Object.fromEntries(nodeNames.map((n) => [n, { condition: 'service_healthy' }])));
    const script = [init.command].flat().join(' ');
    const create = /redis-cli --cluster create ([^\n]+?) --cluster-replicas 1 --cluster-yes/.exec(script);
    expect(create, 'redis-cli --cluster create … --cluster-replicas 1 --cluster-yes').not.toBeNull();
    expect(create![1]!.split(' ').sort()).toEqual(nodeNames.map((n) => `${n}:6379`).sort());
    // A second `up` finds the nodes joined (nodes.conf): creating again would fail on non-empty nodes.
    expect(script).toMatch(/cluster_known_nodes/);
    expect(script).toMatch(/until .*cluster_state:ok/);
    expect(init.environment.REDISCLI_AUTH).toBe(envExample.REDIS_PASSWORD);
  });

  test.each(Object.keys(envModules))('%s: REDIS_CLUSTER_NODES names the six nodes; REDIS_URL carries their password; it waits for the init', async (app) => {
    const s = merged.services[app];
    const schemaKeys = new Set(Object.keys((await envModules[app]!()).schema.shape));
    expect(Object.keys(s.environment).filter((n) => !schemaKeys.has(n))).toEqual([]);
    // What service-kit makes of the two variables: a cluster of these seeds, every node with the password.
    const target = redisTargetOf(s.environment.REDIS_URL, s.environment.REDIS_CLUSTER_NODES);
    expect(target).toEqual({
      cluster: nodeNames.map((n) => ({ host: n, port: 6379 })),
      nodeOptions: { password: envExample.REDIS_PASSWORD },
    });
    expect(s.depends_on).toEqual({
      'redis-cluster-init': { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      migrate: { condition: 'service_completed_successfully' },
    });
    // The rest of the service is the base file's.
    expect(s.environment.DATABASE_URL).toBe(services[app].environment.DATABASE_URL);
    expect(s.deploy).toEqual(services[app].deploy);
  });

  test('the single Redis does not start: nothing depends on it, and it is only in a profile', () => {
    expect(merged.services.redis.profiles).toEqual(['single-node']);
    expect(Object.keys(running)).not.toContain('redis');
    for (const [name, s] of Object.entries<any>(running)) expect(Object.keys(s.depends_on ?? {}), name).not.toContain('redis');
    expect(Object.keys(running)).toEqual(expect.arrayContaining([...nodeNames, 'redis-cluster-init', ...runnableApps]));
    // Without the override, the base stack is untouched: no node, no init, no cluster variable.
    expect(Object.keys(activeServices(compose)).filter((n) => n.startsWith('redis-'))).toEqual([]);
    for (const app of runnableApps) expect(services[app].environment.REDIS_CLUSTER_NODES, app).toBeUndefined();
  });

  test('published host ports are unique, on loopback only, with and without the cluster', () => {
    for (const project of [activeServices(compose), running]) {
      const seen = new Map<number, string>();
      for (const [name, s] of Object.entries<any>(project)) {
        for (const p of s.ports ?? []) expect(String(p), `${name} publishes beyond loopback`).toMatch(/^127\.0\.0\.1:/);
        for (const port of publishedPorts(s)) {
          expect(seen.get(port), `${name} and ${seen.get(port)} both publish ${port}`).toBeUndefined();
          seen.set(port, name);
        }
      }
    }
  });

  test('no secret is written in the file: the nodes and the init take the password from .env', () => {
    for (const [name, s] of Object.entries<any>(clusterRaw.services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        if (secretName.test(key)) expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$/);
      }
    }
  });
});

describe('Prometheus and Grafana', () => {
  const definedMetrics = new Set(
    execFileSync('git', ['grep', '-h', '-o', '-E', "name: '(parley_[a-z_]+)'", '--', ':(glob)apps/*/src/**/*.ts', ':(glob)packages/*/src/**/*.ts'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .map((l) => /parley_[a-z_]+/.exec(l)?.[0])
      .filter((m): m is string => !!m),
  );

  test("Prometheus discovers every replica of every app service on its metrics port (the gateway's METRICS_PORT, else HTTP_PORT)", () => {
    const prom = parse(read('infra/prometheus/prometheus.yml'));
    const sd = prom.scrape_configs.flatMap((c: any) => c.dns_sd_configs ?? []);
    expect(sd.flatMap((d: any) => d.names).sort()).toEqual([...runnableApps].sort());
    for (const d of sd) {
      for (const name of d.names) {
        const env = services[name].environment;
        expect(String(d.port), name).toBe(env.METRICS_PORT ?? env.HTTP_PORT);
      }
    }
    // The gateway's public port (published to the host) is not where its metrics are.
    expect(services.gateway.environment.METRICS_PORT).not.toBe(services.gateway.environment.HTTP_PORT);
  });

  test('tracing: every app service exports OTLP/HTTP to the Jaeger service, whose UI is published on loopback only', () => {
    for (const app of runnableApps) expect(services[app].environment.OTEL_EXPORTER_OTLP_ENDPOINT, app).toBe('http://jaeger:4318');
    expect(services.jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(services.jaeger.ports).toEqual(['127.0.0.1:16686:16686']);
  });

  test('containers listen beyond loopback: HTTP_HOST=0.0.0.0 for every app service', () => {
    for (const app of runnableApps) expect(services[app].environment.HTTP_HOST, app).toBe('0.0.0.0');
  });

  test('the dashboard reads the provisioned datasource and only metrics the code defines', () => {
    const dashboard = JSON.parse(read('infra/grafana/dashboards/parley.json'));
    const datasource = parse(read('infra/grafana/provisioning/datasources/prometheus.yml')).datasources[0];
    const provider = parse(read('infra/grafana/provisioning/dashboards/parley.yml')).providers[0];
    expect(services.grafana.volumes).toContain(`./infra/grafana/dashboards:${provider.options.path}:ro`);
    const used = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.datasource.uid, p.title).toBe(datasource.uid);
      for (const t of p.targets) for (const m of t.expr.matchAll(/parley_[a-z_]+/g)) used.add(m[0].replace(/_(bucket|sum|count)$/, ''));
    }
    const unknown = [...used].filter((m) => !definedMetrics.has(m));
    expect(unknown).toEqual([]);
    for (const m of [
      'parley_actions_handled_total',
      'parley_action_handler_seconds',
      'parley_consumer_lag',
      'parley_gateway_connections',
      'parley_dead_letter_entries',
    ]) {
      expect(used, m).toContain(m);
    }
  });
});
