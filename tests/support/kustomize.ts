/**
 * `kustomize build`, for the subset infra/k8s uses, so the tests read the objects a cluster would get
 * without a kustomize binary (npm has no maintained kustomize renderer; the real one is Go). Supported:
 * `resources` (files, and folders with a kustomization), `components`, `patches` (a strategic merge
 * patch or an RFC 6902 list, from `path` or inline `patch`, with an optional `target` by kind, name and
 * labelSelector), `namespace` and `images`. Anything else in a kustomization is an error here, so the
 * manifests cannot quietly rely on a field this renderer would ignore.
 * Strategic merge: maps merge; lists of objects with a `name` merge by name (containers, env, volumes,
 * ports); other lists are replaced; a null removes the key — what kustomize does for these fields.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fjp from 'fast-json-patch';
import { parseAllDocuments, parse } from 'yaml';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<
  string,
  unknown
>;
export type Container = { name: string; image: string } & Record<string, unknown>;

interface Target {
  kind?: string;
  name?: string;
  labelSelector?: string;
}
interface Patch {
  path?: string;
  patch?: string;
  target?: Target;
}
interface Kustomization {
  apiVersion?: string;
  kind?: 'Kustomization' | 'Component';
  resources?: string[];
  components?: string[];
  patches?: Patch[];
  namespace?: string;
  images?: Array<{ name: string; newName?: string; newTag?: string; digest?: string }>;
}

const KNOWN = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches', 'namespace', 'images']);
// Kinds without a namespace, among those kustomize knows.
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass', 'IngressClass']);

/** The objects `kustomize build <dir>` would print. */
export function kustomizeBuild(dir: string): K8sObject[] {
  const k = readKustomization(dir);
  let objects: K8sObject[] = (k.resources ?? []).flatMap((r) => load(join(dir, r)));
  for (const c of k.components ?? []) objects = applyComponent(join(dir, c), objects);
  return transform(dir, k, objects);
}

function readKustomization(dir: string): Kustomization {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key));
  if (unknown.length) throw new Error(`${dir}/kustomization.yaml: ${unknown.join(', ')} not supported by tests/support/kustomize.ts`);
  return k;
}

function load(path: string): K8sObject[] {
  if (statSync(path).isDirectory()) return kustomizeBuild(path);
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${path}: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  });
}

function applyComponent(dir: string, objects: K8sObject[]): K8sObject[] {
  const k = readKustomization(dir);
  if (k.kind !== 'Component') throw new Error(`${dir}: a component's kustomization must be kind: Component`);
  const own = (k.resources ?? []).flatMap((r) => load(join(dir, r)));
  return transform(dir, k, [...objects, ...own]);
}

/** A kustomization's own transformers, in kustomize's order: patches, namespace, images. */
function transform(dir: string, k: Kustomization, input: K8sObject[]): K8sObject[] {
  let objects = input;
  for (const p of k.patches ?? []) objects = applyPatch(dir, p, objects);
  if (k.namespace) objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: k.namespace } }));
  for (const image of k.images ?? []) for (const o of objects) for (const c of containersOf(o)) setImage(c, image);
  return objects;
}

function applyPatch(dir: string, p: Patch, objects: K8sObject[]): K8sObject[] {
  const text = p.path ? readFileSync(join(dir, p.path), 'utf8') : p.patch;
  if (!text) throw new Error(`${dir}: a patch needs path or patch`);
  const bodies = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  let out = objects;
  for (const body of bodies) out = applyOne(dir, p, body, out);
  return out;
}

function applyOne(dir: string, p: Patch, body: unknown, objects: K8sObject[]): K8sObject[] {
  let matched = 0;
  const out = objects.map((o) => {
    if (Array.isArray(body)) {
      if (!p.target) throw new Error(`${dir}: a JSON 6902 patch needs a target`);
      if (!matches(o, p.target)) return o;
      matched++;
      return fjp.applyPatch(structuredClone(o), body as fjp.Operation[], true, false).newDocument;
    }
    const smp = body as K8sObject;
    const target = p.target ?? { kind: smp.kind, name: smp.metadata.name };
    if (!matches(o, target)) return o;
    matched++;
    // With a target, the patch's own name is not a selector (kustomize ignores it).
    const { metadata, ...rest } = smp;
    const { name: _ignored, ...meta } = metadata ?? {};
    return merge(o, p.target ? { ...rest, metadata: meta } : smp) as K8sObject;
  });
  if (matched === 0) throw new Error(`${dir}: patch ${p.path ?? '(inline)'} matches no object`);
  return out;
}

function matches(o: K8sObject, t: Target): boolean {
  if (t.kind && o.kind !== t.kind) return false;
  if (t.name && o.metadata.name !== t.name) return false;
  if (t.labelSelector) {
    for (const term of t.labelSelector.split(',')) {
      const [key, value] = term.split('=').map((s) => s.trim());
      if (o.metadata.labels?.[key!] !== value) return false;
    }
  }
  return true;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, patch: unknown): unknown {
  if (isMap(base) && isMap(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? merge(base[key], value) : value;
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every((e) => isMap(e) && typeof e['name'] === 'string')) {
    const out = base.map((e) => {
      const p = patch.find((q) => q.name === e.name);
      return p ? merge(e, p) : e;
    });
    for (const p of patch) if (!base.some((e) => e.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

/** The containers of anything with a pod template (Deployment, Job, …). */
export function containersOf(o: K8sObject): Container[] {
  type PodSpec = { initContainers?: Container[]; containers?: Container[] } | undefined;
  const spec = o['spec'] as { template?: { spec?: PodSpec } } | undefined;
  const pod = o.kind === 'Pod' ? (o['spec'] as PodSpec) : spec?.template?.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}

function setImage(c: { image: string }, image: NonNullable<Kustomization['images']>[number]): void {
  const at = c.image.indexOf('@');
  const withoutDigest = at >= 0 ? c.image.slice(0, at) : c.image;
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > withoutDigest.lastIndexOf('/');
  const name = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  if (name !== image.name) return;
  const tag = image.newTag ?? (hasTag ? withoutDigest.slice(colon + 1) : undefined);
  c.image = `${image.newName ?? name}${tag ? `:${tag}` : ''}${image.digest ? `@${image.digest}` : ''}`;
}
