/**
 * The one place in a service that reads `process.env`. A service declares its variables with
 * `defineEnv`, on top of the common base below, and gets a typed config or a list of every problem.
 */
import { hostname } from 'node:os';
import { clusterTarget, type RedisTarget } from '@parley/bus';
import { z } from 'zod';

import { exitWithConfigProblems } from './config-problems.js';

export { safeUrl } from './safe-url.js';

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/**
 * A boolean read on purpose: `z.coerce.boolean()` turns the string "false" into `true`,
 * which is exactly the bug env parsing must not have.
 */
export function envBool(defaultValue?: boolean) {
  const parsed = z.string().transform((raw, ctx) => {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'expected true or false (also 1/0, yes/no, on/off)' });
    return z.NEVER;
  });
  // zod 4: `.default` supplies the parsed (output) value when the variable is absent.
  return defaultValue === undefined ? parsed : parsed.default(defaultValue);
}

/** A TCP port; 0 asks the OS for a free one. */
export const envPort = (defaultValue: number) => z.coerce.number().int().min(0).max(65535).default(defaultValue);

/** Milliseconds or counts: a non-negative integer. */
export const envInt = (defaultValue: number) => z.coerce.number().int().nonnegative().default(defaultValue);

/** A comma-separated list, e.g. `ALLOWED_ORIGINS=a,b`. */
export const envList = (defaultValue: string[] = []) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .default(defaultValue);

const url = (protocols: string[], example: string) =>
  z.string().refine(
    (s) => {
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL like ${example}` },
  );

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Every service reads these. */
export const baseEnvShape = {
  SERVICE_NAME: z.string().min(1).optional(),
  INSTANCE_ID: z.string().min(1).optional(),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
  /**
   * Set: a Redis Cluster reached through these seed nodes (`host:port,host:port,…`) instead of REDIS_URL's
   * node; REDIS_URL's user, password and TLS (rediss:) still apply to every node connection.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, "expected host:port,host:port,… (the cluster's seed nodes)")
    .optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'postgres://postgres@127.0.0.1:5432/parley').default('postgres://postgres@127.0.0.1:5432/parley'),
  BUS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_.:-]+$/, 'letters, digits and _ . : - only (no braces: they are hash tags)')
    .default('parley'),
  LOG_LEVEL: LogLevel.default('info'),
  HTTP_PORT: envPort(0),
  /** Unset: 127.0.0.1 in dev mode (a laptop's services are not the network's), 0.0.0.0 in production. */
  HTTP_HOST: z.string().min(1).optional(),
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  PARLEY_MODE: z.enum(['dev', 'production']).optional(),
  SHUTDOWN_GRACE_MS: envInt(10_000),
  /**
   * How often (ms) the event-loop delay monitor samples. prom-client's 10 ms misses most 1–10 ms stalls
   * (a stall is seen only where it overlaps a sample); 1 ms sees them, for ~1000 timer wakeups a second.
   */
  METRICS_EVENT_LOOP_RESOLUTION_MS: z.coerce.number().int().min(1).max(1000).default(10),
  /** The standard OpenTelemetry variable: the OTLP/HTTP collector's base URL (traces go to `<url>/v1/traces`). Unset: no tracing. */
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:'], 'http://127.0.0.1:4318').optional(),
};

export type BaseShape = typeof baseEnvShape;

/** The common part of every service's config, grouped. */
export interface BaseConfig {
  service: string;
  instance: string;
  mode: 'dev' | 'production';
  redisUrl: string;
  /** What every Redis connection of the service uses: REDIS_URL's node, or the cluster of REDIS_CLUSTER_NODES. */
  redis: RedisTarget;
  databaseUrl: string;
  busPrefix: string;
  logLevel: z.infer<typeof LogLevel>;
  http: { port: number; host: string };
  shutdownGraceMs: number;
  metrics: { eventLoopResolutionMs: number };
  /** Where spans go (OTLP/HTTP traces URL); null: tracing off. */
  tracing: { tracesUrl: string | null };
}

export type EnvOf<S extends z.ZodRawShape> = z.output<z.ZodObject<BaseShape & S>>;

export interface EnvDefinition<C> {
  readonly schema: z.ZodObject<z.ZodRawShape>;
  /** Parses a source (default: `process.env`) without side effects. */
  parse(defaultName: string, source?: Record<string, string | undefined>): EnvResult<C>;
}

/**
 * Rules across variables ("HS256 needs AUTH_JWT_SECRET", "production needs MODEL_NAME"), judged on
 * the grouped config; each problem starts with the variable(s) it is about, like `NAME: …`.
 */
export type ConfigRules<C> = (config: C, base: BaseConfig) => string[];

export type EnvResult<C> = { ok: true; base: BaseConfig; config: C } | { ok: false; problems: string[] };

/**
 * Declares a service's variables. `group` turns the flat variables into the structured config
 * the service's code sees, so names like `CHATWOOT_API_TOKEN` stay at the edge of the process.
 */
export function defineEnv<S extends z.ZodRawShape, C = EnvOf<S>>(shape: S, group?: (env: EnvOf<S>) => C, rules?: ConfigRules<C>): EnvDefinition<C> {
  const schema = z.object({ ...baseEnvShape, ...shape });
  const build = (data: unknown, defaultName: string) => {
    const base = toBase(data as z.output<z.ZodObject<BaseShape>>, defaultName);
    const config = group ? group(data as EnvOf<S>) : (data as C);
    return { base, config, problems: rules ? rules(config, base) : [] };
  };
  /**
   * The rules, judged with the broken variables left out (a default stands in, or nothing), so one run
   * lists every problem. A rule's problem about a variable already listed would only repeat it, and a
   * rule that cannot be judged without a broken variable (it throws on the gap) has nothing to add.
   */
  const rulesWithout = (error: z.ZodError, present: Record<string, string>, defaultName: string): string[] => {
    const broken = new Set(error.issues.map((i) => String(i.path[0] ?? '')));
    const mask = Object.fromEntries([...broken].filter((k) => k in schema.shape).map((k) => [k, true] as const));
    const loose = schema as unknown as z.ZodObject<z.ZodRawShape>;
    const rest = loose.partial(mask).safeParse(Object.fromEntries(Object.entries(present).filter(([k]) => !broken.has(k))));
    if (!rest.success) return [];
    try {
      return build(rest.data, defaultName).problems.filter((p) => !namesAny(p, broken));
    } catch {
      return []; // the rule needed a broken variable; that variable's own problem is already listed
    }
  };
  return {
    schema: schema as unknown as z.ZodObject<z.ZodRawShape>,
    parse(defaultName, source = process.env) {
      const present = withoutBlanks(source);
      const result = schema.safeParse(present);
      if (result.success) {
        const built = build(result.data, defaultName);
        return built.problems.length > 0 ? { ok: false, problems: built.problems } : { ok: true, base: built.base, config: built.config };
      }
      const problems = describeProblems(result.error, source);
      if (rules) problems.push(...rulesWithout(result.error, present, defaultName));
      return { ok: false, problems };
    },
  };
}

/**
 * Variables a release stopped reading. Set, each is a config problem naming what replaced it: left
 * silently unread, an operator's old setting would change behaviour without a word.
 */
export function retiredEnv(retired: Record<string, string>): Record<string, z.ZodOptional<z.ZodUndefined>> {
  return Object.fromEntries(Object.entries(retired).map(([name, instead]) => [name, z.undefined({ error: `no longer read; ${instead}` }).optional()]));
}

/** Whether a problem line (`A, B: …` or `A and B: …`) is about one of `names`. */
function namesAny(problem: string, names: Set<string>): boolean {
  const head = problem.split(':')[0] ?? '';
  return head.split(/,\s*|\s+(?:and|or)\s+/).some((n) => names.has(n.trim()));
}

/** Parses or exits: prints every problem (formatConfigProblems) and exits 1, before anything connects anywhere. */
export function loadEnv<C>(def: EnvDefinition<C>, defaultName: string): { base: BaseConfig; config: C } {
  const result = def.parse(defaultName);
  if (result.ok) return { base: result.base, config: result.config };
  return exitWithConfigProblems(defaultName, result.problems);
}

// An exported-but-empty variable (`FOO=`) means "unset" in every shell convention we care about.
function withoutBlanks(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) if (v !== undefined && v.trim() !== '') out[k] = v;
  return out;
}

function describeProblems(error: z.ZodError, source: Record<string, string | undefined>): string[] {
  return error.issues.map((issue) => {
    const name = issue.path.map(String).join('.') || '(env)';
    const missing = source[name] === undefined || source[name]?.trim() === '';
    // Values are never echoed: an env var that fails to parse may well be a secret.
    return missing ? `${name}: is required` : `${name}: ${issue.message}`;
  });
}

/** PARLEY_MODE, else production when NODE_ENV says so, else dev. */
export function modeOf(env: { PARLEY_MODE?: 'dev' | 'production' | undefined; NODE_ENV?: string | undefined }): 'dev' | 'production' {
  return env.PARLEY_MODE ?? (env.NODE_ENV === 'production' ? 'production' : 'dev');
}

/** The address to bind: the operator's HTTP_HOST, else loopback in dev mode and every interface in production. */
export function httpHostOf(env: { HTTP_HOST?: string | undefined }, mode: 'dev' | 'production'): string {
  return env.HTTP_HOST ?? (mode === 'dev' ? '127.0.0.1' : '0.0.0.0');
}

function toBase(env: z.output<z.ZodObject<BaseShape>>, defaultName: string): BaseConfig {
  const service = env.SERVICE_NAME ?? defaultName;
  const mode = modeOf(env);
  return {
    service,
    // The bus names a consumer and a callback queue after this, so it must be unique per process.
    instance: env.INSTANCE_ID ?? `${service}-${hostname()}-${process.pid}`,
    mode,
    redisUrl: env.REDIS_URL,
    redis: redisTargetOf(env.REDIS_URL, env.REDIS_CLUSTER_NODES),
    databaseUrl: env.DATABASE_URL,
    busPrefix: env.BUS_PREFIX,
    logLevel: env.LOG_LEVEL,
    http: { port: env.HTTP_PORT, host: httpHostOf(env, mode) },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    metrics: { eventLoopResolutionMs: env.METRICS_EVENT_LOOP_RESOLUTION_MS },
    tracing: { tracesUrl: env.OTEL_EXPORTER_OTLP_ENDPOINT ? tracesUrlOf(env.OTEL_EXPORTER_OTLP_ENDPOINT) : null },
  };
}

/** The cluster's nodes take REDIS_URL's credentials and TLS, so one secret serves either mode. */
export function redisTargetOf(redisUrl: string, clusterNodes: string | undefined): RedisTarget {
  if (!clusterNodes) return redisUrl;
  const u = new URL(redisUrl);
  const nodeOptions = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  return clusterTarget(clusterNodes, Object.keys(nodeOptions).length ? nodeOptions : undefined);
}

/** The spec's rule for the base endpoint variable: the signal's path is appended to it. */
function tracesUrlOf(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
