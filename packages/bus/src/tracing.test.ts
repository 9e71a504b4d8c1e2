import { afterAll, beforeAll, describe, expect } from 'vitest';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { redisModeTest as test, waitFor } from '@parley/testing';
import { echoWorker, meta, testBus } from './testing/harness.js';
import { formatTraceparent, parseTraceparent, withSpan } from './tracing.js';

const exporter = new InMemorySpanExporter();
let provider: NodeTracerProvider;
beforeAll(() => {
  provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
});

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const spansOfTrace = (traceId: string) => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);

describe('bus tracing', () => {
  test('a call is one trace: caller span → call (CLIENT) → handle (SERVER), and the envelope traceId is the trace id', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const { reply, traceId } = await withSpan('turn', {}, async (span) => ({
      reply: await caller.call('echo.ping', { n: 1 }, { ...meta, traceId: 'a'.repeat(32) }),
      traceId: span.spanContext().traceId,
    }));
    // The handler saw the trace's id, not the one the caller made up: logs and traces line up.
    expect(reply.traceId).toBe(traceId);
    await waitFor(() => spansOfTrace(traceId).length === 3, { what: 'three spans' });
    const spans = spansOfTrace(traceId);
    const turn = spans.find((s) => s.name === 'turn')!;
    const call = spans.find((s) => s.name === 'echo.ping send')!;
    const handle = spans.find((s) => s.name === 'echo.ping handle')!;
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(handle.kind).toBe(SpanKind.SERVER);
    expect(parentOf(call)).toBe(turn.spanContext().spanId);
    expect(parentOf(handle)).toBe(call.spanContext().spanId);
    expect(call.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.operation.name': 'call',
      'messaging.destination.name': `${prefix}:actions:{echo}`,
    });
    expect(handle.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.consumer.group.name': 'echo', 'parley.outcome': 'ok' });
  });

  test('a send (PRODUCER) is the parent of its handle (CONSUMER)', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const traceId = await withSpan('job', {}, async (span) => {
      await caller.send('echo.notify', { key: 'k' }, meta);
      return span.spanContext().traceId;
    });
    await waitFor(() => spansOfTrace(traceId).some((s) => s.name === 'echo.notify handle'), { what: 'handle span' });
    const send = spansOfTrace(traceId).find((s) => s.name === 'echo.notify send')!;
    const handle = spansOfTrace(traceId).find((s) => s.name === 'echo.notify handle')!;
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(handle.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(handle)).toBe(send.spanContext().spanId);
  });

  test('a failed call marks its spans as errors with the code', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const traceId = await withSpan('turn', {}, async (span) => {
      const err = await caller.call('echo.fail', {}, meta).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'not_found' });
      return span.spanContext().traceId;
    });
    await waitFor(() => spansOfTrace(traceId).length === 3, { what: 'three spans' });
    const call = spansOfTrace(traceId).find((s) => s.name === 'echo.fail send')!;
    const handle = spansOfTrace(traceId).find((s) => s.name === 'echo.fail handle')!;
    expect(call.status.code).toBe(2);
    expect(call.attributes['error.type']).toBe('not_found');
    expect(handle.attributes['parley.outcome']).toBe('error');
  });

  test('without any trace context a call still gets one: its own root, stamped into the envelope', async ({ prefix, redis }) => {
    echoWorker(prefix, redis);
    const caller = testBus(prefix);
    const reply = await caller.call('echo.ping', { n: 2 }, meta);
    await waitFor(() => spansOfTrace(reply.traceId).length === 2, { what: 'two spans' });
    const call = spansOfTrace(reply.traceId).find((s) => s.name === 'echo.ping send')!;
    expect(parentOf(call)).toBeUndefined();
  });

  test('traceparent: parsed and formatted by the W3C rules; all-zero ids and bad shapes are ignored', () => {
    const tp = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const sc = parseTraceparent(tp)!;
    expect(sc).toMatchObject({ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(tp);
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${'cd'.repeat(8)}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${'AB'.repeat(16)}-${'cd'.repeat(8)}-01`)).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});
