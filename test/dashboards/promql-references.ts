// What a PromQL expression reads, found with Prometheus's own grammar (@prometheus-io/lezer-promql,
// the parser behind the Prometheus UI) rather than a regex: metric names of vector selectors
// (including `{__name__="..."}`), the label names they match on, and the labels each aggregation
// groups by. The dashboard tests compare these with what pipewarden really exports.

import { parser } from '@prometheus-io/lezer-promql';

// @lezer/common's node type, named through the parser so the tests need no import of it.
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface SelectorReference {
  /** The metric name, or undefined when the selector names none (or only by regex). */
  metric: string | undefined;
  /** Label names the selector matches on, `__name__` left out. */
  labels: string[];
}

export interface AggregationReference {
  /** Labels of `by (...)` / `without (...)` on the aggregation. */
  labels: string[];
  /** Metric names read anywhere inside the aggregation. */
  metrics: string[];
}

export interface PromqlReferences {
  /** Where the grammar could not parse, as `offset N: "text"`; empty when the expression is valid. */
  errors: string[];
  selectors: SelectorReference[];
  aggregations: AggregationReference[];
}

// Grafana replaces these before the query reaches Prometheus. Durations stand in for them so the
// expression parses as Prometheus will see it; a variable left anywhere else is a parse error.
const GRAFANA_DURATION_VARIABLES = /\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}/g;

/** The expression as Prometheus receives it, with Grafana's range variables replaced by `5m`. */
export function substituteGrafanaDurations(expr: string): string {
  return expr.replace(GRAFANA_DURATION_VARIABLES, '5m');
}

/** Parses `expr` (after Grafana's range variables) and lists what it reads. */
export function readPromqlReferences(grafanaExpr: string): PromqlReferences {
  const expr = substituteGrafanaDurations(grafanaExpr);
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: SelectorReference[] = [];
  const aggregations: AggregationReference[] = [];
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to);
  tree.iterate({
    enter(ref) {
      if (ref.type.isError) errors.push(`offset ${ref.from}: "${expr.slice(Math.max(0, ref.from - 10), ref.to + 10)}"`);
      if (ref.name === 'VectorSelector') selectors.push(readSelector(ref.node, text));
      if (ref.name === 'AggregateExpr') {
        const modifier = ref.node.getChild('AggregateModifier');
        const grouping = modifier?.getChild('GroupingLabels');
        if (grouping) {
          const metrics = new Set<string>();
          ref.node.cursor().iterate((inner) => {
            if (inner.name === 'VectorSelector') {
              const metric = readSelector(inner.node, text).metric;
              if (metric !== undefined) metrics.add(metric);
            }
          });
          aggregations.push({ labels: grouping.getChildren('LabelName').map(text), metrics: [...metrics].sort() });
        }
      }
    },
  });
  if (expr.trim() === '') errors.push('empty expression');
  return { errors, selectors, aggregations };
}

function readSelector(node: SyntaxNode, text: (node: SyntaxNode) => string): SelectorReference {
  const identifier = node.getChild('Identifier');
  let metric = identifier ? text(identifier) : undefined;
  const labels: string[] = [];
  const matchers = node.getChild('LabelMatchers');
  for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
    const name = matcher.getChild('LabelName');
    const value = matcher.getChild('StringLiteral');
    if (!name) continue;
    const label = text(name);
    if (label !== '__name__') {
      labels.push(label);
      continue;
    }
    // Only an equality names one metric; a regex or negation on __name__ cannot be checked.
    const exact = Boolean(matcher.getChild('MatchOp')?.getChild('EqlSingle'));
    metric = exact && value ? (JSON.parse(text(value).replace(/^'|'$/g, '"')) as string) : undefined;
  }
  return { metric, labels };
}
