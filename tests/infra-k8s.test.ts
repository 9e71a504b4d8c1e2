/**
 * infra/k8s: every manifest validated against the Kubernetes and KEDA OpenAPI schemas shipped in
 * kubernetes-models / @kubernetes-models/keda (no cluster, no download), then checked against the code:
 * env names from each env.ts, KEDA streams and groups from busKeys, probes on service-kit's routes.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
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
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'infra/k8s');
const PREFIX = 'parley';

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

const kustomization = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0]!.toJS();
const docs: Array<{ file: string; obj: any }> = kustomization.resources.flatMap((file: string) =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file, obj: d.toJS() };
  }),
);
const find = (kind: string, name: string) => docs.find((d) => d.obj.kind === kind && d.obj.metadata.name === name)?.obj;

/** The bus service an app consumes, as its main.ts passes it to runService. */
const busServiceOf = (app: string) => /\bservice: '([a-z-]+)'/.exec(readFileSync(join(root, 'apps', app, 'src/main.ts'), 'utf8'))?.[1];

describe('infra/k8s', () => {
  test('kustomization lists every manifest in the folder', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(kustomization.namespace).toBe('parley');
  });

  test('every manifest is valid against its Kubernetes / KEDA schema', () => {
    for (const { file, obj } of docs) {
      const Model = models[`${obj.apiVersion}/${obj.kind}`];
      expect(Model, `${file}: no schema for ${obj.apiVersion} ${obj.kind}`).toBeDefined();
      expect(() => new Model!(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`).not.toThrow();
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
    expect(container.image).toBe(`parley/${app}`);
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
    expect(trigger.type).toBe('redis-streams');
    expect(trigger.metadata.stream).toBe(busKeys.stream(PREFIX, busService));
    expect(trigger.metadata.consumerGroup).toBe(busKeys.group(busService));
    expect(Number(trigger.metadata.lagCount)).toBeGreaterThan(0);
    expect(trigger.metadata.activationLagCount).toMatch(/^\d+$/);
    // Lag mode only: either of these would switch the scaler to XPENDING or XLEN.
    expect(trigger.metadata.pendingEntriesCount).toBeUndefined();
    expect(trigger.metadata.streamLength).toBeUndefined();

    // KEDA's operator connects from its own namespace, to the Redis the services use.
    const redisUrl = new URL(find('Secret', 'parley-infra').stringData.REDIS_URL);
    expect(trigger.metadata.address).toBe(`${redisUrl.hostname}:${redisUrl.port}`);
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
});
