/**
 * Every metric a Grafana panel or an alert names is exported by a running service: the services are
 * started (conversation, agent-execution, query, migration as processes, the gateway in this
 * process), one chat turn goes through the gateway, and every /metrics is scraped. Expressions are
 * parsed with Prometheus' PromQL grammar (tests/support/promql.ts), so a typo'd query fails too.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { ParleyClient, type RunFrame } from '../packages/client/src/index.js';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { metricNames } from './support/promql.js';

const root = join(import.meta.dirname, '..');
const platform = usePlatform('metrics', { query: true, migration: true, gateway: {} });

/** Every PromQL expression of the dashboards and the alert rules, with where it comes from. */
function expressions(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const dir = join(root, 'infra/grafana/dashboards');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      templating?: { list: Array<{ name: string; query?: { query: string } }> };
    };
    for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push({ where: `${file}: ${p.title}`, expr: t.expr });
    for (const v of dashboard.templating?.list ?? []) {
      const query = /^label_values\(([^,]+),/.exec(v.query?.query ?? '')?.[1];
      if (query) out.push({ where: `${file}: variable ${v.name}`, expr: query });
    }
  }
  const rules = parse(readFileSync(join(root, 'infra/prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const g of rules.groups) for (const r of g.rules) out.push({ where: `alerts.yml: ${r.alert}`, expr: r.expr });
  return out;
}

/** Metric families a scrape declares (`# TYPE`), and those with at least one sample. */
function families(text: string): { declared: Set<string>; sampled: Set<string> } {
  const declared = new Set<string>();
  const sampled = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+)/.exec(line);
    if (type) declared.add(type[1]!);
    else if (/^[a-z_]/.test(line)) sampled.add(line.replace(/[{ ].*$/, '').replace(/_(bucket|sum|count)$/, ''));
  }
  return { declared, sampled };
}

async function collect(run: AsyncIterable<RunFrame>): Promise<RunFrame[]> {
  const out: RunFrame[] = [];
  for await (const f of run) out.push(f);
  return out;
}

describe('metrics named by dashboards and alerts exist', () => {
  test('after one chat turn, every metric of every panel and alert is exported by some service and has data (failure counters aside); a new chat counts no get_history error', async () => {
    const client = new ParleyClient({ url: platform.gw.ws, token: () => token({ sub: 'metrics-user' }) });
    const { welcome } = await client.connect();
    const frames = await collect(await client.chat('hello metrics [[tokens:6]]'));
    expect(frames.at(-1)?.type).toBe('agent.message');
    client.close();
    const rest = await fetch(`${platform.gw.http}/api/v1/conversations/${welcome.conversationId}/messages`, {
      headers: { authorization: `Bearer ${token({ sub: 'metrics-user' })}` },
    });
    expect(rest.status).toBe(200);

    const urls: Record<string, string> = { gateway: `${platform.gw.metrics}/metrics` };
    for (const [app, port] of Object.entries(platform.services.ports)) urls[app] = `http://127.0.0.1:${port}/metrics`;
    expect(Object.keys(urls).sort()).toEqual(['agent-execution', 'conversation', 'gateway', 'migration', 'query']);
    const scrapes = Object.fromEntries(await Promise.all(Object.entries(urls).map(async ([app, url]) => [app, await (await fetch(url)).text()] as const)));
    const declared = new Set<string>();
    const sampled = new Set<string>();
    for (const text of Object.values(scrapes)) {
      const f = families(text);
      for (const m of f.declared) declared.add(m);
      for (const m of f.sampled) sampled.add(m);
    }

    const exprs = expressions();
    expect(exprs.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: selects no metric`).toBeGreaterThan(0);
      for (const name of names) if (!declared.has(name)) missing.push(`${where}: ${name}`);
    }
    expect(missing).toEqual([]);

    // A live run has data for every panel and alert: each metric named has samples after one turn, except the two
    // that count only failures (a labelled counter has no series until its first increment).
    const failureOnly = ['parley_dead_letters_total', 'parley_llm_errors_total'];
    const named = [...new Set(exprs.flatMap((e) => metricNames(e.expr)))];
    expect(named.filter((m) => !sampled.has(m) && !failureOnly.includes(m))).toEqual([]);
    expect(scrapes['agent-execution']).toMatch(/parley_agent_runs_total\{flow="default",agent="default",status="SUCCEEDED"[^}]*\} 1/);
    expect(scrapes['agent-execution']).toMatch(/parley_llm_tokens_total\{model="parley-dev",direction="output"[^}]*\} [1-9]/);

    // The history a new chat asks for is an ordinary reply: neither the conversation service nor the gateway counts an error.
    expect(scrapes['conversation']).toMatch(/parley_actions_handled_total\{type="conversation.get_history",outcome="ok"/);
    expect(scrapes['conversation']).not.toMatch(/parley_actions_handled_total\{type="conversation.get_history",outcome="(?!ok)/);
    expect(scrapes['gateway']).not.toMatch(/parley_bus_call_seconds_count\{type="conversation.get_history",outcome="(?!ok)/);
  });
});
