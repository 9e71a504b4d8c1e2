/**
 * docker-compose.yml, read as Docker Compose would after interpolating .env.example: no engine runs
 * here, so the invariants a broken `docker compose up` would reveal are checked on the file itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

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

function dotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`; `$$` is a literal `$`. */
function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (whole, name?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const value = vars[name!];
    if (value !== undefined && value !== '') return value;
    if (op === ':?') throw new Error(`${name} is required by docker-compose.yml but empty in .env.example`);
    return op === ':-' ? arg! : '';
  });
}

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
