/**
 * infra/k8s: each overlay rendered as `kustomize build` would (tests/support/kustomize.ts), every object
 * validated against the Kubernetes, KEDA and prometheus-operator schemas shipped in kubernetes-models /
 * @kubernetes-models/* (no cluster, no download), then checked against the code (env names from each
 * env.ts, KEDA streams and groups from busKeys, probes on service-kit's routes) and against the policy a
 * platform team applies (resources everywhere, pinned images, no service account token, PDBs that
 * survive a drain, WebSocket timeouts on the Ingress, a NetworkPolicy default deny).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { busKeys, catalog } from '@parley/contracts';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { redisTargetOf } from '../packages/service-kit/src/env.js';
import { containersOf, kustomizeBuild, type K8sObject } from './support/kustomize.js';

const root = join(import.meta.dirname, '..');
const k8s = join(root, 'infra/k8s');
const PREFIX = 'parley';
const overlays = ['dev', 'prod', 'prod-cluster'] as const;
/** Overlays with components/redis-cluster: the services on a Redis Cluster, KEDA on redis-cluster-streams. */
const clustered = new Set<string>(['prod-cluster']);

const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'v1/ServiceAccount': ServiceAccount,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

const envModules: Record<string, () => Promise<{ schema: { shape: object } }>> = {
  gateway: async () => (await import('../apps/gateway/src/env.js')).env,
  'agent-execution': async () => (await import('../apps/agent-execution/src/env.js')).env,
  conversation: async () => (await import('../apps/conversation/src/env.js')).env,
  query: async () => (await import('../apps/query/src/env.js')).env,
  migration: async () => (await import('../apps/migration/src/env.js')).env,
};
const apps = Object.keys(envModules);
const workers = apps.filter((a) => a !== 'gateway');

const rendered: Record<(typeof overlays)[number], K8sObject[]> = {
  dev: kustomizeBuild(join(k8s, 'overlays/dev')),
  prod: kustomizeBuild(join(k8s, 'overlays/prod')),
  'prod-cluster': kustomizeBuild(join(k8s, 'overlays/prod-cluster')),
};
const finder = (objects: K8sObject[]) => (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name) as any;

/** The environment a Deployment's container gets (env, then envFrom ConfigMaps and Secrets), as KEDA resolves *FromEnv. */
function envOfIn(objects: K8sObject[], deployment: any): Record<string, string> {
  const find = finder(objects);
  const [container] = deployment.spec.template.spec.containers;
  const out: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef ? find('ConfigMap', from.configMapRef.name) : find('Secret', from.secretRef.name);
    Object.assign(out, source?.data ?? source?.stringData ?? {});
  }
  for (const e of container.env ?? []) if (typeof e.value === 'string') out[e.name] = e.value;
  return out;
}

/** The bus service an app consumes, as its main.ts passes it to runService. */
const busServiceOf = (app: string) => /\bservice: '([a-z-]+)'/.exec(readFileSync(join(root, 'apps', app, 'src/main.ts'), 'utf8'))?.[1];

/** Every .yaml under a folder, as paths relative to it. */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) return yamlFiles(path).map((p) => join(f, p));
    return f.endsWith('.yaml') ? [f] : [];
  });
}

test('the base lists every manifest in its folder; the workload component is applied to it', () => {
  const base = join(k8s, 'base');
  const kustomization = parse(readFileSync(join(base, 'kustomization.yaml'), 'utf8'));
  expect([...kustomization.resources].sort()).toEqual(
    yamlFiles(base)
      .filter((f) => f !== 'kustomization.yaml')
      .sort(),
  );
  expect(kustomization.namespace).toBe('parley');
  expect(kustomization.components).toEqual([relative(base, join(k8s, 'components/workload'))]);
});

describe.each(overlays)('infra/k8s/overlays/%s', (overlay) => {
  const objects = rendered[overlay];
  const docs = objects.map((obj) => ({ file: `${overlay}: ${obj.kind}/${obj.metadata.name}`, obj: obj as any }));
  const find = finder(objects);
  const envOf = (deployment: any) => envOfIn(objects, deployment);

  test('every rendered object is valid against its Kubernetes / KEDA / prometheus-operator schema, in the parley namespace', () => {
    for (const { file, obj } of docs) {
      const Model = models[`${obj.apiVersion}/${obj.kind}`];
      expect(Model, `${file}: no schema for ${obj.apiVersion} ${obj.kind}`).toBeDefined();
      expect(() => new Model!(obj).validate(), file).not.toThrow();
      expect(obj.metadata.namespace, file).toBe('parley');
    }
  });

  test('the validator rejects a malformed manifest (it really validates)', () => {
    const bad = structuredClone(find('Deployment', 'gateway'));
    bad.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    expect(() => new Deployment(bad).validate()).toThrow(/containerPort/);
    const badScaler = structuredClone(find('ScaledObject', 'conversation'));
    badScaler.spec.triggers[0].metadata.lagCount = 50;
    expect(() => new ScaledObject(badScaler).validate()).toThrow(/lagCount/);
  });

  test.each(apps)('%s: Deployment, Service, PDB, ConfigMap; probes on /healthz and /readyz at HTTP_PORT', (app) => {
    const deployment = find('Deployment', app);
    expect(deployment, `${app} Deployment`).toBeDefined();
    const pod = deployment.spec.template;
    const [container] = pod.spec.containers;
    const common = find('ConfigMap', 'parley-common');
    const http = container.ports.find((p: any) => p.name === 'http');
    expect(String(http.containerPort)).toBe(common.data.HTTP_PORT);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(container.image).toMatch(new RegExp(`(^|/)parley/${app}:[^:]+$`));
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    // Autoscaled: a replicas field here would fight KEDA / the HPA on every apply.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.selector.matchLabels).toEqual(pod.metadata.labels);

    const service = find('Service', app);
    expect(service.spec.selector).toEqual(pod.metadata.labels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const pdb = find('PodDisruptionBudget', app);
    expect(pdb.spec.selector.matchLabels).toEqual(pod.metadata.labels);
    expect(find('ConfigMap', `${app}-config`)).toBeDefined();
  });

  test.each(apps)('%s: every env name the pod gets is a variable of its env schema', async (app) => {
    const schemaKeys = new Set(Object.keys((await envModules[app]!()).schema.shape));
    const [container] = find('Deployment', app).spec.template.spec.containers;
    const names: string[] = container.env.map((e: any) => e.name);
    for (const from of container.envFrom) {
      const ref = from.configMapRef ?? from.secretRef;
      const source = find(from.configMapRef ? 'ConfigMap' : 'Secret', ref.name);
      expect(source, `${app}: envFrom ${ref.name} does not exist`).toBeDefined();
      names.push(...Object.keys(source.data ?? source.stringData ?? {}));
    }
    expect(
      names.filter((n) => !schemaKeys.has(n)),
      `not in apps/${app}/src/env.ts`,
    ).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['REDIS_URL', 'DATABASE_URL', 'HTTP_PORT', 'BUS_PREFIX', 'INSTANCE_ID']));
  });

  test.each(workers)('%s: a KEDA ScaledObject on its own stream and consumer group, in lag mode', (app) => {
    const busService = busServiceOf(app)!;
    expect(Object.values(catalog).map((a) => a.service)).toContain(busService);
    const so = find('ScaledObject', app);
    expect(so, `${app} ScaledObject`).toBeDefined();
    expect(so.spec.scaleTargetRef.name).toBe(app);
    expect(so.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(so.spec.maxReplicaCount).toBeGreaterThan(so.spec.minReplicaCount);
    expect(so.spec.triggers).toHaveLength(1);
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe(clustered.has(overlay) ? 'redis-cluster-streams' : 'redis-streams');
    expect(trigger.metadata.stream).toBe(busKeys.stream(PREFIX, busService));
    expect(trigger.metadata.consumerGroup).toBe(busKeys.group(busService));
    expect(Number(trigger.metadata.lagCount)).toBeGreaterThan(0);
    expect(trigger.metadata.activationLagCount).toMatch(/^\d+$/);
    // Lag mode only: either of these would switch the scaler to XPENDING or XLEN.
    expect(trigger.metadata.pendingEntriesCount).toBeUndefined();
    expect(trigger.metadata.streamLength).toBeUndefined();

    // KEDA's operator connects from its own namespace, to the Redis the services use.
    if (clustered.has(overlay)) {
      // The seed nodes come from the scale target's own environment: the variable the services read.
      expect(trigger.metadata.address).toBeUndefined();
      expect(trigger.metadata.addressesFromEnv).toBe('REDIS_CLUSTER_NODES');
      expect(envOf(find('Deployment', app))['REDIS_CLUSTER_NODES']).toMatch(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/);
    } else {
      const redisUrl = new URL(find('Secret', 'parley-infra').stringData.REDIS_URL);
      expect(trigger.metadata.address).toBe(`${redisUrl.hostname}:${redisUrl.port}`);
    }
    const auth = find('TriggerAuthentication', trigger.authenticationRef.name);
    for (const ref of auth.spec.secretTargetRef) expect(find('Secret', ref.name)?.stringData?.[ref.key], `${ref.name}.${ref.key}`).toBeDefined();
  });

  test('the bus prefix in the config is the one the ScaledObjects were written for', () => {
    expect(find('ConfigMap', 'parley-common').data.BUS_PREFIX).toBe(PREFIX);
  });

  test('pods listen beyond loopback; Prometheus scrapes each app where it serves /metrics (the gateway: METRICS_PORT, not the public port)', () => {
    expect(find('ConfigMap', 'parley-common').data.HTTP_HOST).toBe('0.0.0.0');
    const metricsPort = find('ConfigMap', 'gateway-config').data.METRICS_PORT;
    expect(metricsPort).toBeDefined();
    expect(metricsPort).not.toBe(find('ConfigMap', 'parley-common').data.HTTP_PORT);
    for (const app of apps) {
      const pod = find('Deployment', app).spec.template;
      const expected = app === 'gateway' ? metricsPort : find('ConfigMap', 'parley-common').data.HTTP_PORT;
      expect(pod.metadata.annotations['prometheus.io/port'], app).toBe(expected);
      expect(
        pod.spec.containers[0].ports.some((p: any) => String(p.containerPort) === expected),
        `${app} declares port ${expected}`,
      ).toBe(true);
    }
    expect(find('Service', 'gateway').spec.ports.map((p: any) => p.targetPort)).toEqual(['http']);
  });

  test('the gateway scales on CPU with an HPA, not on a stream', () => {
    const hpa = find('HorizontalPodAutoscaler', 'gateway');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(find('ScaledObject', 'gateway')).toBeUndefined();
  });

  test('Secrets hold placeholders only', () => {
    for (const { file, obj } of docs.filter((d) => d.obj.kind === 'Secret')) {
      expect(obj.data, `${file}: use stringData placeholders, not encoded data`).toBeUndefined();
      for (const [key, value] of Object.entries<string>(obj.stringData)) {
        const password = /^[a-z]+:\/\//.test(value) ? decodeURIComponent(new URL(value).password) : value;
        expect(['', 'REPLACE_ME'], `${file} ${obj.metadata.name}.${key}`).toContain(password);
      }
    }
  });

  test('the migrate Job runs the db package migrations with DATABASE_URL only', () => {
    const [container] = find('Job', 'db-migrate').spec.template.spec.containers;
    expect(container.command).toEqual(['node', 'node_modules/@parley/db/dist/migrate-cli.js']);
    expect(container.env.map((e: any) => e.name)).toEqual(['DATABASE_URL']);
  });

  // ---- what a platform team checks ----

  const workloads = docs.filter((d) => d.obj.kind === 'Deployment' || d.obj.kind === 'Job').map((d) => d.obj);
  const podSpec = (o: any) => o.spec.template.spec;
  const labelsMatch = (selector: any, labels: Record<string, string>) =>
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]));

  test('every container, the migrate Job included, has cpu and memory requests and limits', () => {
    expect(workloads.length).toBe(apps.length + 1);
    for (const o of workloads) {
      for (const c of containersOf(o)) {
        const resources = c['resources'] as Record<string, Record<string, string> | undefined> | undefined;
        for (const kind of ['requests', 'limits'])
          for (const r of ['cpu', 'memory']) expect(resources?.[kind]?.[r], `${o.kind}/${o.metadata.name} ${c.name} ${kind}.${r}`).toBeDefined();
      }
    }
  });

  test('images are pinned by the overlay: a tag (or digest) on every image, never latest, one release for all', () => {
    const tags = new Set<string>();
    for (const o of workloads) {
      for (const c of containersOf(o)) {
        const m = /^(?<name>[^@]+?)(?::(?<tag>[^:/@]+))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/.exec(c.image);
        expect(m?.groups?.['tag'] ?? m?.groups?.['digest'], `${o.metadata.name}: ${c.image} is not pinned`).toBeDefined();
        expect(m?.groups?.['tag'], c.image).not.toBe('latest');
        tags.add(m?.groups?.['tag'] ?? m?.groups?.['digest'] ?? '');
      }
    }
    expect([...tags], 'every Parley image from the same build').toHaveLength(1);
  });

  test('one ServiceAccount without a token: every pod uses it with automountServiceAccountToken false', () => {
    const sa = find('ServiceAccount', 'parley');
    expect(sa.automountServiceAccountToken).toBe(false);
    for (const o of workloads) {
      expect(podSpec(o).serviceAccountName, o.metadata.name).toBe('parley');
      expect(podSpec(o).automountServiceAccountToken, o.metadata.name).toBe(false);
    }
    expect(docs.filter((d) => /Role/.test(d.obj.kind))).toEqual([]);
  });

  test.each(apps)('%s: a PDB that keeps a pod through a drain and still lets the drain evict one', (app) => {
    const deployment = find('Deployment', app);
    const labels = deployment.spec.template.metadata.labels;
    const pdbs = docs.filter((d) => d.obj.kind === 'PodDisruptionBudget' && labelsMatch(d.obj.spec.selector, labels)).map((d) => d.obj);
    expect(pdbs).toHaveLength(1);
    const [pdb] = pdbs;
    // The autoscaler's floor: the fewest pods a drain can meet.
    const floor = app === 'gateway' ? find('HorizontalPodAutoscaler', app).spec.minReplicas : find('ScaledObject', app).spec.minReplicaCount;
    const keeps = pdb.spec.minAvailable ?? floor - pdb.spec.maxUnavailable;
    expect(keeps, 'pods the PDB keeps during a drain').toBeGreaterThanOrEqual(1);
    expect(floor - keeps, 'pods a drain may evict at the floor (0 would block drains forever)').toBeGreaterThanOrEqual(1);
    if (overlay.startsWith('prod')) expect(floor).toBeGreaterThanOrEqual(2);
  });

  test.each(apps)('%s: graceful drain — preStop sleep, then SIGTERM with time for service-kit to finish; spread over zones and nodes', (app) => {
    const pod = podSpec(find('Deployment', app));
    const [container] = pod.containers;
    const sleep = container.lifecycle?.preStop?.sleep?.seconds;
    expect(sleep, 'preStop sleep while endpoints and the ingress drop the pod').toBeGreaterThanOrEqual(5);
    const graceMs = Number(find('ConfigMap', 'parley-common').data.SHUTDOWN_GRACE_MS);
    // service-kit: workers get SHUTDOWN_GRACE_MS, then a hard exit 5 s later (createShutdown hardTimeoutMs).
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(sleep + graceMs / 1000 + 5);
    expect(pod.topologySpreadConstraints.map((t: any) => t.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    for (const t of pod.topologySpreadConstraints) {
      expect(labelsMatch(t.labelSelector, pod.containers && find('Deployment', app).spec.template.metadata.labels)).toBe(true);
      expect(t.matchLabelKeys).toContain('app.kubernetes.io/name');
    }
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });

  test('the Ingress sends everything to the gateway, with WebSocket-long proxy timeouts', () => {
    const ingresses = docs.filter((d) => d.obj.kind === 'Ingress').map((d) => d.obj);
    expect(ingresses).toHaveLength(1);
    const [ingress] = ingresses;
    for (const a of ['proxy-read-timeout', 'proxy-send-timeout']) {
      expect(Number(ingress.metadata.annotations[`nginx.ingress.kubernetes.io/${a}`]), a).toBeGreaterThanOrEqual(3600);
    }
    const backends = ingress.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service));
    expect(backends).toEqual([{ name: 'gateway', port: { name: 'http' } }]);
    expect(find('Service', 'gateway').spec.ports.map((p: any) => p.name)).toContain('http');
    expect(ingress.spec.rules[0].host).toMatch(/\./);
    if (overlay.startsWith('prod')) expect(ingress.spec.tls?.[0]?.hosts).toContain(ingress.spec.rules[0].host);
  });

  test('NetworkPolicy: default deny; only the gateway takes outside traffic; DNS, Redis, PostgreSQL for all; public HTTPS (the model, Chatwoot, the OIDC provider) for agent-execution, query and the gateway only', () => {
    const policies = docs.filter((d) => d.obj.kind === 'NetworkPolicy').map((d) => d.obj);
    const podsOf = (app: string) => find('Deployment', app).spec.template.metadata.labels;
    const applying = (app: string, type: 'Ingress' | 'Egress') =>
      policies.filter((p) => p.spec.policyTypes.includes(type) && labelsMatch(p.spec.podSelector, podsOf(app)));
    const deny = find('NetworkPolicy', 'parley-default-deny');
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec.ingress ?? []).toEqual([]);
    expect(deny.spec.egress ?? []).toEqual([]);
    const monitoring = (from: any) => from.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring' && !from.podSelector;
    for (const app of apps) {
      expect(labelsMatch(deny.spec.podSelector, podsOf(app)), `${app} under the default deny`).toBe(true);
      // Ingress other than Prometheus' scrape: the gateway only.
      const outside = applying(app, 'Ingress').flatMap((p) => (p.spec.ingress ?? []).filter((r: any) => !r.from.every(monitoring)));
      expect(outside.length > 0, `${app} takes outside traffic`).toBe(app === 'gateway');
      const egress = applying(app, 'Egress').flatMap((p) => p.spec.egress ?? []);
      const ports = (rule: any) => (rule.ports ?? []).map((p: any) => `${p.protocol}/${p.port}`);
      const allPorts = egress.flatMap(ports);
      for (const needed of ['UDP/53', 'TCP/53', 'TCP/6379', 'TCP/5432']) expect(allPorts, `${app} egress`).toContain(needed);
      const publicEgress = egress.filter((r: any) => r.to.some((t: any) => t.ipBlock?.cidr === '0.0.0.0/0'));
      for (const r of publicEgress)
        expect(r.to.every((t: any) => t.ipBlock.except.includes('10.0.0.0/8') && t.ipBlock.except.includes('169.254.0.0/16'))).toBe(true);
      const reachesModel = publicEgress.some((r: any) => ports(r).includes('TCP/443'));
      expect(reachesModel, `${app} reaches the model / the internet`).toBe(['agent-execution', 'query', 'gateway'].includes(app));
    }
  });

  test('each app is scraped by one PodMonitor on the port that serves its /metrics', () => {
    const monitors = docs.filter((d) => d.obj.kind === 'PodMonitor').map((d) => d.obj);
    const metricsPort = find('ConfigMap', 'gateway-config').data.METRICS_PORT;
    for (const app of apps) {
      const pod = find('Deployment', app).spec.template;
      const mine = monitors.filter((m) => labelsMatch(m.spec.selector, pod.metadata.labels));
      expect(mine, app).toHaveLength(1);
      const [endpoint] = mine[0].spec.podMetricsEndpoints;
      expect(endpoint.path).toBe('/metrics');
      expect(endpoint.honorLabels).toBe(true);
      const port = pod.spec.containers[0].ports.find((p: any) => p.name === endpoint.port);
      expect(String(port?.containerPort), `${app} scraped on ${endpoint.port}`).toBe(
        app === 'gateway' ? metricsPort : find('ConfigMap', 'parley-common').data.HTTP_PORT,
      );
    }
  });
});

describe('components/redis-cluster (overlays/prod-cluster = prod + the component)', () => {
  const single = rendered.prod;
  const cluster = rendered['prod-cluster'];
  const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
  const changed = cluster.filter((o) => JSON.stringify(o) !== JSON.stringify(single.find((s) => key(s) === key(o))));

  test('changes only the common config, the ScaledObjects and the Redis egress; adds and removes nothing', () => {
    expect(cluster.map(key).sort()).toEqual(single.map(key).sort());
    expect(changed.map(key).sort()).toEqual(
      ['ConfigMap/parley-common', 'NetworkPolicy/parley-egress-dns-redis-postgres', ...workers.map((w) => `ScaledObject/${w}`)].sort(),
    );
  });

  test('one setting: REDIS_CLUSTER_NODES (seed host:port list) in parley-common, read by every service; REDIS_URL still gives the password', () => {
    const before = finder(single)('ConfigMap', 'parley-common').data;
    const after = finder(cluster)('ConfigMap', 'parley-common').data;
    expect(after).toEqual({ ...before, REDIS_CLUSTER_NODES: expect.any(String) });
    for (const app of apps) {
      const env = envOfIn(cluster, finder(cluster)('Deployment', app));
      // What service-kit makes of it: a cluster of these seeds, each node with REDIS_URL's password.
      const target = redisTargetOf(env['REDIS_URL']!, env['REDIS_CLUSTER_NODES']) as { cluster: Array<{ host: string; port: number }>; nodeOptions: object };
      expect(target.cluster.length, app).toBeGreaterThanOrEqual(1);
      for (const node of target.cluster) expect(node.port).toBe(6379);
      expect(target.nodeOptions).toEqual({ password: 'REPLACE_ME' });
    }
    expect(envOfIn(single, finder(single)('Deployment', 'gateway'))['REDIS_CLUSTER_NODES']).toBeUndefined();
  });

  test('each ScaledObject keeps its stream, group, thresholds and auth; only the trigger type and where the nodes come from change', () => {
    for (const w of workers) {
      const [before] = finder(single)('ScaledObject', w).spec.triggers;
      const [after] = finder(cluster)('ScaledObject', w).spec.triggers;
      const { address: _address, ...kept } = before.metadata;
      expect(after).toEqual({ ...before, type: 'redis-cluster-streams', metadata: { ...kept, addressesFromEnv: 'REDIS_CLUSTER_NODES' } });
    }
  });

  test("every pod may reach the cluster's nodes on the client port (not the cluster bus)", () => {
    const before = finder(single)('NetworkPolicy', 'parley-egress-dns-redis-postgres').spec.egress;
    const after = finder(cluster)('NetworkPolicy', 'parley-egress-dns-redis-postgres').spec.egress;
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length)).toEqual([
      { to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'redis-cluster' } } }], ports: [{ protocol: 'TCP', port: 6379 }] },
    ]);
  });
});
