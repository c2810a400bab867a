// A loopback OTLP/HTTP receiver: a real node:http server (RecordingHttpServer) that records what
// an OTLP exporter POSTs to /v1/traces and /v1/metrics in the http/json encoding, and reads the
// spans and metric data points back out of the recorded bodies as the collector would see them.

import { startRecordingHttpServer, type RecordedHttpRequest, type RecordingHttpServer } from './recording-http-server.ts';
import { waitUntil } from './wait-until.ts';

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  attributes: Record<string, string | number | boolean>;
  events: Array<{ name: string; attributes: Record<string, string | number | boolean> }>;
  status: { code?: number; message?: string };
  /** service.name of the resource the span came with. */
  service: string | undefined;
}

export interface ReceivedPoint {
  metric: string;
  /** sum, gauge or histogram: the OTLP data kind the metric arrived as. */
  kind: string;
  isMonotonic: boolean | undefined;
  attributes: Record<string, string | number | boolean>;
  value: number | undefined;
  histogram: { count: number; sum: number; bucketCounts: number[]; explicitBounds: number[] } | undefined;
  /** Which export (POST to /v1/metrics, in arrival order) the point came in. */
  exportIndex: number;
}

function valueOf(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue ?? '';
}

function attributesOf(list: readonly KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

/** OTLP/JSON ids are hex; an empty or absent parent means a root span. */
function parentOf(id: string | undefined): string | undefined {
  return id === undefined || id === '' ? undefined : id;
}

export class OtlpReceiver {
  private readonly server: RecordingHttpServer;

  constructor(server: RecordingHttpServer) {
    this.server = server;
  }

  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  get url(): string {
    return this.server.url;
  }

  get requests(): readonly RecordedHttpRequest[] {
    return this.server.requests;
  }

  private posts(path: string): RecordedHttpRequest[] {
    return this.server.requests.filter((request) => request.method === 'POST' && request.pathname === path);
  }

  spans(): ReceivedSpan[] {
    const spans: ReceivedSpan[] = [];
    for (const request of this.posts('/v1/traces')) {
      const body = request.body as { resourceSpans?: Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> };
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = attributesOf(resourceSpans.resource?.attributes)['service.name'];
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId as string,
              spanId: span.spanId as string,
              parentSpanId: parentOf(span.parentSpanId as string | undefined),
              name: span.name as string,
              attributes: attributesOf(span.attributes as KeyValue[] | undefined),
              events: ((span.events as Array<{ name: string; attributes?: KeyValue[] }> | undefined) ?? []).map((event) => ({ name: event.name, attributes: attributesOf(event.attributes) })),
              status: (span.status as ReceivedSpan['status'] | undefined) ?? {},
              service: typeof service === 'string' ? service : undefined,
            });
          }
        }
      }
    }
    return spans;
  }

  points(): ReceivedPoint[] {
    const points: ReceivedPoint[] = [];
    for (const [exportIndex, request] of this.posts('/v1/metrics').entries()) {
      const body = request.body as { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: Array<Record<string, unknown>> }> }> };
      for (const resourceMetrics of body.resourceMetrics ?? []) {
        for (const scope of resourceMetrics.scopeMetrics ?? []) {
          for (const metric of scope.metrics ?? []) {
            for (const kind of ['sum', 'gauge', 'histogram']) {
              const data = metric[kind] as { dataPoints?: Array<Record<string, unknown>>; isMonotonic?: boolean } | undefined;
              for (const point of data?.dataPoints ?? []) {
                const histogram = kind === 'histogram'
                  ? { count: Number(point.count), sum: Number(point.sum), bucketCounts: (point.bucketCounts as Array<string | number>).map(Number), explicitBounds: point.explicitBounds as number[] }
                  : undefined;
                const raw = point.asDouble ?? point.asInt;
                points.push({
                  metric: metric.name as string,
                  kind,
                  isMonotonic: data?.isMonotonic,
                  attributes: attributesOf(point.attributes as KeyValue[] | undefined),
                  value: raw === undefined ? undefined : Number(raw),
                  histogram,
                  exportIndex,
                });
              }
            }
          }
        }
      }
    }
    return points;
  }

  /** The points of `metric` whose attributes include `attributes`, from the latest export that has any. */
  latest(metric: string, attributes: Record<string, string> = {}): ReceivedPoint[] {
    const matching = this.points().filter((point) => point.metric === metric && Object.entries(attributes).every(([key, value]) => point.attributes[key] === value));
    const last = Math.max(-1, ...matching.map((point) => point.exportIndex));
    return matching.filter((point) => point.exportIndex === last);
  }

  /** Waits until a span named `name` (matching `where`) has arrived. */
  waitForSpan(name: string, timeoutMs: number, where: (span: ReceivedSpan) => boolean = () => true): Promise<ReceivedSpan> {
    return waitUntil(() => Promise.resolve(this.spans().find((span) => span.name === name && where(span))), timeoutMs, `a span "${name}" reaching the OTLP receiver`);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  return new OtlpReceiver(await startRecordingHttpServer());
}
