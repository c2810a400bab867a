// The prom-client registry as an OpenTelemetry MetricProducer, so an OTLP metric reader exports
// the very metrics /metrics serves: src/telemetry/metrics.ts stays their only definition (names,
// help, labels, buckets), and a metric added there reaches OTLP without a second declaration.
//
// prom-client keeps cumulative values, so counters become monotonic cumulative sums, gauges
// gauges, and histograms explicit-bucket histograms whose cumulative `le` buckets are turned back
// into per-bucket counts. Names keep their Prometheus spelling (dashboards and alerts know them);
// labels become attributes. Summaries have no OTLP counterpart in the SDK and are left out
// (pipewarden defines none).

import type { Attributes, HrTime } from '@opentelemetry/api';
import { ValueType } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { PIPEWARDEN_VERSION } from '../version.ts';

/** One metric as `registry.getMetricsAsJSON()` returns it (prom-client's own typings say less). */
export interface PrometheusMetricJson {
  name: string;
  help: string;
  type: string;
  values: ReadonlyArray<{ value: number; labels: Record<string, string | number | undefined>; metricName?: string }>;
}

const SCOPE = { name: 'pipewarden', version: PIPEWARDEN_VERSION };

/** Now as OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

// UCUM units for the base-unit suffixes pipewarden's names end in.
const UNIT_SUFFIXES: ReadonlyArray<[string, string]> = [
  ['_seconds', 's'],
  ['_seconds_total', 's'],
  ['_bytes', 'By'],
  ['_bytes_total', 'By'],
  ['_ratio', '1'],
];

export class RegistryMetricProducer implements MetricProducer {
  private readonly registry: Registry;
  /** Start of every cumulative series: prom-client counts from the registry's creation, close enough to this. */
  private readonly startTime: HrTime;

  constructor(registry: Registry, startTime: HrTime = hrTime()) {
    this.registry = registry;
    this.startTime = startTime;
  }

  async collect(): Promise<CollectionResult> {
    const json = (await this.registry.getMetricsAsJSON()) as unknown as PrometheusMetricJson[];
    const metrics = convertPrometheusMetrics(json, { startTime: this.startTime, endTime: hrTime() });
    // The reader replaces this resource with the SDK's own.
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] };
  }
}

/** Converts prom-client's JSON metrics to OTLP metric data: counters → sums, gauges → gauges, histograms → histograms. */
export function convertPrometheusMetrics(metrics: readonly PrometheusMetricJson[], times: { startTime: HrTime; endTime: HrTime }): MetricData[] {
  const converted: MetricData[] = [];
  for (const metric of metrics) {
    const descriptor = { name: metric.name, description: metric.help, unit: unitOf(metric.name), valueType: ValueType.DOUBLE };
    const point = (labels: Record<string, string | number | undefined>, value: number): DataPoint<number> => ({ ...times, attributes: attributesOf(labels), value });
    switch (metric.type) {
      case 'counter':
        converted.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.SUM,
          isMonotonic: true,
          dataPoints: metric.values.map((entry) => point(entry.labels, entry.value)),
        });
        break;
      case 'gauge':
        converted.push({
          descriptor,
          aggregationTemporality: AggregationTemporality.CUMULATIVE,
          dataPointType: DataPointType.GAUGE,
          dataPoints: metric.values.map((entry) => point(entry.labels, entry.value)),
        });
        break;
      case 'histogram':
        converted.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints: histogramPoints(metric, times) });
        break;
      default:
        break;
    }
  }
  return converted;
}

function unitOf(name: string): string {
  return UNIT_SUFFIXES.find(([suffix]) => name.endsWith(suffix))?.[1] ?? '';
}

function attributesOf(labels: Record<string, string | number | undefined>): Attributes {
  const attributes: Attributes = {};
  for (const [key, value] of Object.entries(labels)) if (value !== undefined) attributes[key] = String(value);
  return attributes;
}

interface HistogramSeries {
  labels: Record<string, string | number | undefined>;
  /** Cumulative counts by finite upper bound. */
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/** Groups prom-client's `_bucket`/`_sum`/`_count` samples by label set and rebuilds per-bucket counts. */
function histogramPoints(metric: PrometheusMetricJson, times: { startTime: HrTime; endTime: HrTime }): DataPoint<Histogram>[] {
  const series = new Map<string, HistogramSeries>();
  for (const entry of metric.values) {
    const { le, ...labels } = entry.labels;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    let current = series.get(key);
    if (current === undefined) series.set(key, (current = { labels, buckets: new Map(), sum: 0, count: 0 }));
    const suffix = entry.metricName?.slice(metric.name.length);
    if (suffix === '_sum') current.sum = entry.value;
    else if (suffix === '_count') current.count = entry.value;
    else if (suffix === '_bucket' && le !== undefined && le !== '+Inf') current.buckets.set(Number(le), entry.value);
  }
  return [...series.values()].map((entry) => {
    const boundaries = [...entry.buckets.keys()].sort((a, b) => a - b);
    const counts: number[] = [];
    let below = 0;
    for (const bound of boundaries) {
      const cumulative = entry.buckets.get(bound) ?? below;
      counts.push(cumulative - below);
      below = cumulative;
    }
    // The +Inf bucket: what is left of the count above the last finite bound.
    counts.push(Math.max(0, entry.count - below));
    return { ...times, attributes: attributesOf(entry.labels), value: { buckets: { boundaries, counts }, sum: entry.sum, count: entry.count } };
  });
}
