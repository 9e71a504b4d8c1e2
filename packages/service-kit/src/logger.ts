/**
 * One logger for every service: pino, JSON, one line per event. Base fields say who logs
 * (`service`, `instance`); children say about what (`tenantId`, `correlationId`, `traceId`, `action`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { BaseConfig } from './env.js';
import { redactSecrets } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  service: string;
  instance: string;
  level?: BaseConfig['logLevel'];
  /** Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const log = pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, instance: opts.instance },
      // Level names, not numbers: grep-able and what log backends index on. Each line's object has
      // its secrets redacted (redact.ts) before serializers run.
      formatters: { level: (label) => ({ level: label }), log: redactSecrets },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    // Synchronous writes: a line logged just before process.exit (fatal, "stopped") is never lost or
    // overtaken by an earlier line still in flight, at a cost that does not matter at our log volume
    // (a line per failure, not per request: see the gateway's request-log.ts).
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  // pino applies its bindings formatter to the root's base only, so a child's bindings are redacted
  // here; children inherit this `child` from the root (they are created with Object.create), so every
  // descendant's are too, Fastify's per-request child included.
  // pino's child is generic over custom levels, which this wrapper passes through untouched.
  type ChildOf = (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) => unknown;
  const childOf = log.child as unknown as ChildOf;
  log.child = function (this: unknown, bindings: pino.Bindings, options?: pino.ChildLoggerOptions) {
    return childOf.call(this, redactSecrets(bindings), options);
  } as unknown as typeof log.child;
  return log;
}

/** The fields of the house convention for a child logger about one action or request. */
export interface LogContext {
  tenantId?: string | undefined;
  correlationId?: string | undefined;
  traceId?: string | undefined;
  action?: string | undefined;
}

/** `log.child(logContext(action))`: picks the convention's fields and drops the absent ones. */
export function logContext(src: LogContext & { type?: string }): Record<string, string> {
  const out: Record<string, string> = {};
  if (src.tenantId) out.tenantId = src.tenantId;
  if (src.correlationId) out.correlationId = src.correlationId;
  if (src.traceId) out.traceId = src.traceId;
  const action = src.action ?? src.type;
  if (action) out.action = action;
  return out;
}
