/**
 * OpenTelemetry tracing for a service: off unless an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT) or a test hands in its own span processor. Off, nothing is
 * registered: the API stays its no-op, and the helpers here return what they were given unchanged.
 * On, one NodeTracerProvider per process (AsyncLocalStorage context, so a span started in a handler is
 * the parent of whatever the handler awaits), spans batched to OTLP/HTTP.
 */
import { DiagLogLevel, context, diag, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';

export { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** `service.name` of every span (the service's SERVICE_NAME). */
  service: string;
  /** `service.instance.id` (INSTANCE_ID). */
  instance: string;
  /** OTLP/HTTP traces URL (`BaseConfig.tracing.tracesUrl`); null or absent: no exporter. */
  tracesUrl?: string | null;
  /** Extra processors, e.g. `new SimpleSpanProcessor(new InMemorySpanExporter())` in a test. */
  processors?: SpanProcessor[];
  /** Export failures are logged here at `warn` (a collector that is down must not be silent). */
  log?: Logger;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Exports what is buffered now (tests; shutdown does it too). */
  flush(): Promise<void>;
  /** Flushes, then unregisters, so the process (or the next test) starts from the no-op API again. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

let provider: NodeTracerProvider | null = null;

/** True once `installTracing` registered a provider in this process. */
export function tracingEnabled(): boolean {
  return provider !== null;
}

export function installTracing(opts: TracingOptions): Tracing {
  const processors = [...(opts.processors ?? [])];
  // The OTEL_BSP_* variables (batch delay, queue size) are read by the BatchSpanProcessor itself.
  if (opts.tracesUrl) processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: opts.tracesUrl })));
  if (processors.length === 0) return OFF;
  if (provider) throw new Error('installTracing: tracing is already installed in this process');
  if (opts.log) {
    const log = opts.log.child({ component: 'tracing' });
    const noop = () => {};
    diag.setLogger({ error: (msg) => log.warn(msg), warn: (msg) => log.warn(msg), info: noop, debug: noop, verbose: noop }, DiagLogLevel.WARN);
  }
  const current = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': opts.service, 'service.namespace': 'parley', 'service.instance.id': opts.instance }),
    spanProcessors: processors,
  });
  current.register();
  provider = current;
  return {
    enabled: true,
    flush: () => current.forceFlush(),
    async shutdown() {
      await current.shutdown().catch(() => {
        /* an exporter that cannot deliver at exit has already said so through diag */
      });
      if (provider !== current) return;
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
      provider = null;
    },
  };
}
