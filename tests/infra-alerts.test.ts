/**
 * The alert rules, read without a Prometheus: infra/prometheus/alerts.yml (compose) and the
 * PrometheusRule of infra/k8s (the same groups), every expression parsed with Prometheus' PromQL
 * grammar and naming only metrics the code defines, every alert with a runbook in infra/README.md.
 * tests/metrics-exist.test.ts checks the same names against live /metrics.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { metricNames } from './support/promql.js';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const rulesFile = parse(read('infra/prometheus/alerts.yml')) as { groups: Array<{ name: string; rules: Rule[] }> };
const rules = rulesFile.groups.flatMap((g) => g.rules);

/** Metric names declared in the source (`name: 'parley_…'`, how every metric here is declared), and Prometheus' own. */
const defined = new Set(
  execFileSync('git', ['grep', '-h', '-o', '-E', "name: '(parley_[a-z_]+)'", '--', ':(glob)apps/*/src/**/*.ts', ':(glob)packages/*/src/**/*.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .map((l) => /parley_[a-z_]+/.exec(l)?.[0])
    .filter((m): m is string => !!m),
);

describe('alert rules', () => {
  test('the PromQL reader finds metric names and refuses a broken expression', () => {
    expect(metricNames('sum by (le) (rate(a_seconds_bucket{x="y"}[5m])) / on() b_total > 1')).toEqual(['a_seconds', 'b_total']);
    expect(() => metricNames('sum(rate(a_total[5m])')).toThrow(/syntax error/);
  });

  test('the rules cover what an operator must hear about', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ParleyConsumerLagHigh',
      'ParleyDeadLettersGrowing',
      'ParleyGatewayErrors',
      'ParleyMigrationBacklogOld',
      'ParleyModelErrorRatioHigh',
      'ParleyNoConsumers',
      'ParleyOldestPendingTooOld',
      'ParleyRunFailureRatioHigh',
    ]);
  });

  test.each(rules.map((r) => [r.alert, r] as const))('%s: parses, names defined metrics, has severity, a duration, text and a runbook', (_name, rule) => {
    const names = metricNames(rule.expr);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !defined.has(n))).toEqual([]);
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['warning', 'critical']).toContain(rule.labels.severity);
    expect(rule.annotations.summary).toBeTruthy();
    expect(rule.annotations.description).toBeTruthy();
    const anchor = rule.alert.toLowerCase();
    expect(rule.annotations.runbook).toBe(`infra/README.md#${anchor}`);
    const readme = read('infra/README.md');
    const section = new RegExp(`^#### ${rule.alert}\\n\\n([^#]+)`, 'm').exec(readme)?.[1] ?? '';
    expect(section, `infra/README.md has no runbook for ${rule.alert}`).toMatch(/npm run ops -- /);
  });

  test('no Consumers: the alert names every consumer group the catalog has', async () => {
    const { catalog } = await import('@parley/contracts');
    const groups = [...new Set(Object.values(catalog).map((a) => a.service))].sort();
    const rule = rules.find((r) => r.alert === 'ParleyNoConsumers')!;
    expect([...rule.expr.matchAll(/group="([a-z-]+)"/g)].map((m) => m[1]).sort()).toEqual(groups);
  });

  test('compose loads the rules file; the Kubernetes PrometheusRule carries the same groups', () => {
    const prom = parse(read('infra/prometheus/prometheus.yml'));
    expect(prom.rule_files).toEqual(['alerts.yml']);
    const compose = parse(read('docker-compose.yml'));
    expect(compose.services.prometheus.volumes).toContain('./infra/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    const [rule] = parseAllDocuments(read('infra/k8s/base/prometheus-rule.yaml')).map((d) => d.toJS());
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups).toEqual(rulesFile.groups);
  });
});
