/**
 * tests/support/kustomize.ts, the renderer infra-k8s reads the overlays with: it must do what
 * `kustomize build` does for the fields it supports, and refuse what it does not, so a manifest cannot
 * rely on a field the test would silently skip.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { kustomizeBuild } from './support/kustomize.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A folder tree from { 'path/file.yaml': text }. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kustomize-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { team: parley }
spec:
  template:
    spec:
      containers:
        - name: ${name}
          image: example/${name}
          env: [{ name: A, value: "1" }]
`;

describe('kustomizeBuild (the subset infra/k8s uses)', () => {
  test('resources, a component with strategic-merge and RFC 6902 patches by label, then namespace and images in the overlay', () => {
    const root = tree({
      'base/kustomization.yaml': 'resources: [one.yaml, two.yaml]\ncomponents: [../shape]\n',
      'base/one.yaml': deployment('one'),
      'base/two.yaml': deployment('two'),
      'shape/kustomization.yaml': `kind: Component
patches:
  - target: { kind: Deployment, labelSelector: team=parley }
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: ignored }
      spec:
        template:
          spec:
            automountServiceAccountToken: false
  - target: { kind: Deployment, labelSelector: team=parley }
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/readinessProbe
        value: { httpGet: { path: /readyz, port: http } }
`,
      'overlay/kustomization.yaml': `namespace: ns
resources: [../base]
images:
  - { name: example/one, newName: registry.example.com/one, newTag: "1.2.3" }
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: two }
      spec:
        template:
          spec:
            containers:
              - name: two
                env: [{ name: B, value: "2" }]
`,
    });
    const [one, two] = kustomizeBuild(join(root, 'overlay')) as any[];
    for (const d of [one, two]) {
      expect(d.metadata.namespace).toBe('ns');
      expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
      expect(d.spec.template.spec.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    }
    expect(one.spec.template.spec.containers[0].image).toBe('registry.example.com/one:1.2.3');
    expect(two.spec.template.spec.containers[0].image).toBe('example/two');
    // Lists of named objects merge by name: the patch adds B beside A and keeps the container's other fields.
    expect(two.spec.template.spec.containers).toHaveLength(1);
    expect(two.spec.template.spec.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  test('refuses a kustomization field it does not implement, and a patch that matches nothing', () => {
    const unknown = tree({ 'kustomization.yaml': 'resources: [one.yaml]\ncommonLabels: { a: b }\n', 'one.yaml': deployment('one') });
    expect(() => kustomizeBuild(unknown)).toThrow(/commonLabels not supported/);
    const stray = tree({
      'kustomization.yaml': 'resources: [one.yaml]\npatches:\n  - target: { kind: Deployment, name: nope }\n    patch: "[{op: remove, path: /spec}]"\n',
      'one.yaml': deployment('one'),
    });
    expect(() => kustomizeBuild(stray)).toThrow(/matches no object/);
  });
});
