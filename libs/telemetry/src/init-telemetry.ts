import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, InMemorySpanExporter, NoopSpanProcessor, ParentBasedSampler, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { hostname } from 'node:os';

export interface TelemetryOptions {
  /** `service.name`, e.g. `policy`. */
  serviceName: string;
  /** `service.instance.id`: which replica. */
  instanceId: string;
  serviceVersion?: string;
  /**
   * Where spans go. `auto` (default): OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
   * `..._TRACES_ENDPOINT`) is set, otherwise nowhere (spans still get real ids, so logs and
   * events carry usable trace ids). `memory` keeps them for tests.
   */
  exporter?: 'auto' | 'memory' | 'none';
  env?: Record<string, string | undefined>;
}

export interface Telemetry {
  readonly tracer: Tracer;
  /** Set when `exporter: 'memory'`. */
  readonly memory: InMemorySpanExporter | undefined;
  /** True when spans leave the process (OTLP). */
  readonly exporting: boolean;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the SDK; later spans are dropped. */
  shutdown(): Promise<void>;
}

let active: Telemetry | undefined;

/**
 * Starts OpenTelemetry for this process: tracer provider, AsyncLocalStorage context and W3C
 * propagation. Call once, first thing; a second call returns the running instance.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  if (active) return active;
  const env = options.env ?? process.env;
  const mode = options.exporter ?? 'auto';
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const memory = mode === 'memory' ? new InMemorySpanExporter() : undefined;
  const exporting = mode === 'auto' && Boolean(endpoint);
  let processor: SpanProcessor;
  if (memory) processor = new SimpleSpanProcessor({ exporter: memory });
  else if (exporting) processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter() });
  else processor = new NoopSpanProcessor();
  // With nowhere to send spans, recording them is pure cost on the hot path: an unsampled span
  // still gets real trace and span ids, so traceparent headers, event metadata and log lines
  // keep tying everything together. A caller's sampled trace is honoured only when exporting.
  const sampler = memory || exporting ? new ParentBasedSampler({ root: new AlwaysOnSampler() }) : new AlwaysOffSampler();

  const sdk = new NodeSDK({
    autoDetectResources: false,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      'service.instance.id': options.instanceId,
      'service.namespace': 'tameflare',
      'host.name': hostname(),
      'process.pid': process.pid,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    spanProcessors: [processor],
    sampler,
    // Metrics and OTel logs are not used (logs go through pino): keep the SDK from
    // starting exporters for them from OTEL_* defaults.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  let stopped = false;
  const telemetry: Telemetry = {
    tracer: trace.getTracer(options.serviceName, options.serviceVersion),
    memory,
    exporting,
    flush: async () => {
      if (!stopped) await processor.forceFlush();
    },
    shutdown: async () => {
      if (stopped) return;
      stopped = true;
      await processor.forceFlush().catch(() => undefined);
      await sdk.shutdown();
      trace.disable();
      active = undefined;
    },
  };
  active = telemetry;
  return telemetry;
}
