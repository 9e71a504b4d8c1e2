/**
 * Spans of the bus, on the OpenTelemetry API only: without a registered tracer provider (service-kit
 * installs one when an exporter is configured) every call here is the API's no-op, so a process
 * that does not trace pays a few object allocations per action and nothing else.
 *
 * The trace context travels in the envelope as a W3C `traceparent` (built and parsed here, not by a
 * registered propagator), so it also passes through a process that does not trace: that process's
 * no-op spans carry their parent's context, and `ctx.meta.traceparent` hands it to the next hop.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import { TRACEPARENT_PATTERN, type DomainAction } from '@parley/contracts';

export { SpanKind, type Attributes, type Span };

const tracer = trace.getTracer('@parley/bus');

/**
 * Messaging attribute names (OpenTelemetry semantic conventions, messaging spans). They are still
 * "development" in the conventions package, whose own advice is to copy such names, not import them.
 */
const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  consumerGroup: 'messaging.consumer.group.name',
  clientId: 'messaging.client.id',
} as const;

/** `00-<trace id>-<span id>-<flags>`, or undefined for a malformed or all-zero one. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined || !TRACEPARENT_PATTERN.test(value)) return undefined;
  const sc: SpanContext = { traceId: value.slice(3, 35), spanId: value.slice(36, 52), traceFlags: parseInt(value.slice(53, 55), 16), isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined;
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The traceparent of a span, when its context is valid (a no-op span without a parent has none). */
export function traceparentOf(span: Span): string | undefined {
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/**
 * The parent of what a sender does: the active span (a model call, a tool, the handler itself) when
 * there is one, else the traceparent the caller passed in its meta (a handler's `ctx.meta`).
 */
function senderParent(traceparent: string | undefined): Context {
  const active = context.active();
  if (isSpanContextValid(trace.getSpanContext(active) ?? INVALID)) return active;
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(active, sc) : active;
}

const INVALID: SpanContext = { traceId: '', spanId: '', traceFlags: 0 };

/** `<type> send` (PRODUCER, no reply) or `<type> call` … kind CLIENT: ended by the caller when the send or the call settles. */
export function startSendSpan(action: DomainAction, stream: string, instance: string, traceparent: string | undefined): Span {
  const kind = action.replyTo === undefined ? SpanKind.PRODUCER : SpanKind.CLIENT;
  const span = tracer.startSpan(`${action.type} send`, { kind }, senderParent(traceparent));
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.system]: 'redis',
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: action.replyTo === undefined ? 'send' : 'call',
      [ATTR.destination]: stream,
      [ATTR.messageId]: action.id,
      [ATTR.conversationId]: action.correlationId,
      [ATTR.clientId]: instance,
      'parley.action.type': action.type,
      'parley.tenant.id': action.tenantId,
    });
  }
  return span;
}

/** Writes the span's context into the envelope: `traceparent`, and `traceId` equal to its trace id. */
export function stampTrace(action: DomainAction, span: Span): void {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return;
  action.traceparent = formatTraceparent(sc);
  action.traceId = sc.traceId;
}

/** Ends a send/call span with the error that ended it, if any. */
export function endSpan(span: Span, err?: { code?: string; message: string }): void {
  if (err && span.isRecording()) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    if (err.code) span.setAttribute('error.type', err.code);
  }
  span.end();
}

/**
 * Runs a worker's processing of one action inside `<type> handle` (SERVER when the caller waits for a
 * reply, CONSUMER otherwise), a child of the envelope's traceparent; everything the handler sends,
 * calls or traces is a child of it.
 */
export function inHandleSpan<T>(
  action: DomainAction,
  where: { stream: string; group: string; consumer: string; attempt: number },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const sc = parseTraceparent(action.traceparent);
  const parent = sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
  const kind = action.replyTo === undefined ? SpanKind.CONSUMER : SpanKind.SERVER;
  const span = tracer.startSpan(`${action.type} handle`, { kind }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      [ATTR.system]: 'redis',
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'handle',
      [ATTR.destination]: where.stream,
      [ATTR.consumerGroup]: where.group,
      [ATTR.clientId]: where.consumer,
      [ATTR.messageId]: action.id,
      [ATTR.conversationId]: action.correlationId,
      'parley.action.type': action.type,
      'parley.tenant.id': action.tenantId,
      'parley.attempt': where.attempt,
    });
  }
  return context.with(trace.setSpan(parent, span), fn, undefined, span).finally(() => span.end());
}

/** Records a handler's outcome on the active handle span (no-op outside one, or when not tracing). */
export function markOutcome(outcome: string): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  span.setAttribute('parley.outcome', outcome);
  if (outcome !== 'ok' && outcome !== 'duplicate') {
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    span.setAttribute('error.type', outcome);
  }
}

/**
 * Runs `fn` in a new span, a child of the active one: the helper for a step worth seeing in a trace
 * (a tool call, a store round trip, a WebSocket turn). A throw marks the span as an error and is
 * rethrown; the span ends when `fn` settles. `fn` may add attributes to the span it gets.
 */
export function withSpan<T>(name: string, opts: { kind?: SpanKind; attributes?: Attributes }, fn: (span: Span) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL });
  if (opts.attributes && span.isRecording()) span.setAttributes(opts.attributes);
  return context.with(trace.setSpan(context.active(), span), fn, undefined, span).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      if (span.isRecording()) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
        const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
        span.setAttribute('error.type', code ?? (err instanceof Error ? err.name : 'error'));
      }
      span.end();
      throw err;
    },
  );
}

/** A span ended by its owner (one that outlives the call that started it), with a way to run code inside it. */
export interface OpenSpan {
  readonly span: Span;
  /** Runs `fn` with this span active: what `fn` starts (bus calls, spans) are its children. */
  within<T>(fn: () => T): T;
  /** Ends it; with an error, marks it failed. Later calls do nothing. */
  end(err?: unknown): void;
}

export function openSpan(name: string, opts: { kind?: SpanKind; attributes?: Attributes }): OpenSpan {
  const span = tracer.startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL });
  if (opts.attributes && span.isRecording()) span.setAttributes(opts.attributes);
  const ctx = trace.setSpan(context.active(), span);
  let ended = false;
  return {
    span,
    within: (fn) => context.with(ctx, fn),
    end(err) {
      if (ended) return;
      ended = true;
      if (err !== undefined && span.isRecording()) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
    },
  };
}

/** The active span's trace id, for a log line about work not (yet) on the bus; undefined when not tracing. */
export function activeTraceId(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}
