/**
 * PromQL read with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of its web UI):
 * an expression that does not parse is an error, and the metric names it selects are read from the
 * syntax tree, not guessed with a regular expression (so `rate`, `sum by (le)` or a label value are
 * never taken for a metric).
 */
import { parser } from '@prometheus-io/lezer-promql';

/** Grafana's variables, replaced by something PromQL accepts before parsing. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, 'x');
}

/** The metric names an expression selects (histogram series as their family: `_bucket`, `_sum`, `_count` removed). Throws on a syntax error. */
export function metricNames(expr: string): string[] {
  const text = withoutGrafanaVariables(expr);
  const tree = parser.parse(text);
  const names = new Set<string>();
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) throw new Error(`PromQL syntax error at ${cursor.from} in: ${expr}`);
    if (cursor.name === 'VectorSelector') {
      const selector = cursor.node;
      const id = selector.getChild('Identifier');
      if (id) names.add(text.slice(id.from, id.to));
      // {__name__="…"} selects by name too.
      for (const m of selector.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = m.getChild('LabelName');
        const value = m.getChild('StringLiteral');
        if (label && value && text.slice(label.from, label.to) === '__name__') names.add(text.slice(value.from + 1, value.to - 1));
      }
    }
  } while (cursor.next());
  return [...names].map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}
