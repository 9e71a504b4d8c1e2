/**
 * Compose files read as `docker compose -f a.yml -f b.yml` would, for the subset Parley's files use, so
 * tests/infra-compose.test.ts checks the project an engine would run without one: `.env` interpolation
 * (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`), YAML anchors and merge keys, and the merge of an
 * override file — maps merge key by key, `ports`/`volumes`/`profiles` lists append (distinct entries),
 * any other list or scalar is replaced, and a value tagged `!override` replaces the base's whole value.
 */
import { parse } from 'yaml';

const OVERRIDE = Symbol('compose !override');
type Overridden = { [OVERRIDE]: unknown };

const overrideTag = {
  tag: '!override',
  collection: 'map' as const,
  resolve: (map: { toJSON(): unknown }): Overridden => ({ [OVERRIDE]: map.toJSON() }),
};

export function dotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`; `$$` is a literal `$`. */
export function interpolate(text: string, vars: Record<string, string>, file = 'docker-compose.yml'): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}/g, (whole, name?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const value = vars[name!];
    if (value !== undefined && value !== '') return value;
    if (op === ':?') throw new Error(`${name} is required by ${file} but empty in .env.example`);
    return op === ':-' ? arg! : '';
  });
}

/** One compose file's YAML (already interpolated, or raw), with anchors, merge keys and `!override`. */
export function parseCompose(text: string): Record<string, unknown> {
  return parse(text, { merge: true, customTags: [overrideTag] }) as Record<string, unknown>;
}

const appendLists = new Set(['ports', 'volumes', 'profiles']);
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `base` with `override` applied as Compose merges a second `-f` file. */
export function mergeCompose(base: unknown, override: unknown, key = ''): unknown {
  if (isMap(override) && OVERRIDE in override) return (override as Overridden)[OVERRIDE];
  if (isMap(base) && isMap(override)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = k in base ? mergeCompose(base[k], v, k) : stripTags(v);
    return out;
  }
  if (Array.isArray(base) && Array.isArray(override) && appendLists.has(key)) return [...new Set([...base, ...override])];
  return stripTags(override);
}

function stripTags(v: unknown): unknown {
  if (isMap(v) && OVERRIDE in v) return (v as Overridden)[OVERRIDE];
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stripTags(x)]));
  return v;
}

/** Services a `docker compose up` starts with no profile named: those without `profiles`. */
export function activeServices<S extends { profiles?: string[] }>(project: { services: Record<string, S> }): Record<string, S> {
  return Object.fromEntries(Object.entries(project.services).filter(([, s]) => !s.profiles?.length));
}

/** Host ports a service publishes (`[ip:]host[-host]:container`), ranges expanded. */
export function publishedPorts(service: { ports?: string[] }): number[] {
  return (service.ports ?? []).flatMap((p) => {
    const parts = String(p).split(':');
    const host = parts.length === 3 ? parts[1]! : parts.length === 2 ? parts[0]! : '';
    const [from, to] = host.split('-').map(Number);
    if (!from) return [];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  });
}
