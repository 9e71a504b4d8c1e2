/**
 * Spans around a store's round trips (PostgreSQL, Redis) without touching the store: `tracedStore`
 * wraps every method call in a CLIENT span `<name>.<method>`. The pg and ioredis auto-instrumentations
 * need module-loading hooks that do not apply to this ESM build; a store is the unit a reader of a
 * trace thinks in anyway ("runs.insert" says more than "INSERT"). Tracing off, the store itself is
 * returned: no proxy on the hot path.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { tracingEnabled } from './tracing.js';

const tracer = trace.getTracer('@parley/service-kit');

export function tracedStore<T extends object>(store: T, opts: { system: 'postgresql' | 'redis'; name: string }): T {
  if (!tracingEnabled()) return store;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const span = tracer.startSpan(`${opts.name}.${prop}`, {
          kind: SpanKind.CLIENT,
          attributes: { 'db.system.name': opts.system, 'db.operation.name': prop, 'db.collection.name': opts.name },
        });
        const fail = (err: unknown) => {
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          span.end();
        };
        let result: unknown;
        try {
          result = context.with(trace.setSpan(context.active(), span), () => method.apply(target, args));
        } catch (err) {
          fail(err);
          throw err;
        }
        if (!(result instanceof Promise)) {
          span.end();
          return result;
        }
        return result.then(
          (v: unknown) => {
            span.end();
            return v;
          },
          (err: unknown) => {
            fail(err);
            throw err;
          },
        );
      };
    },
  });
}
