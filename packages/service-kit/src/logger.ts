/**
 * One logger for every service: pino, JSON, one line per event. Base fields say who logs
 * (`service`, `instance`); children say about what (`tenantId`, `correlationId`, `traceId`, `action`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { BaseConfig } from './env.js';

export type { Logger };

const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'clientSecret',
  'api_access_token',
  'webhookSecret',
  '"x-api-key"',
  '"x-chatwoot-signature"',
];

/**
 * pino redacts exact paths, not "this key anywhere", so each secret key is listed at the depths where
 * our code puts it: top level, inside one object (`headers.authorization`, `config.apiKey`), and two
 * deep (`req.headers.authorization`).
 */
export const redactPaths: string[] = SECRET_KEYS.flatMap((k) => {
  const key = k.startsWith('"') ? `[${k}]` : `.${k}`;
  const top = k.startsWith('"') ? `[${k}]` : k;
  return [top, `*${key}`, `*.*${key}`];
});

export interface LoggerOptions {
  service: string;
  instance: string;
  level?: BaseConfig['logLevel'];
  /** Tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: opts.service, instance: opts.instance },
      redact: { paths: redactPaths, censor: '[redacted]' },
      // Level names, not numbers: grep-able and what log backends index on.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    // Synchronous writes: a line logged just before process.exit (fatal, "stopped") is never lost or
    // overtaken by an earlier line still in flight, at a cost that does not matter at our log volume.
    opts.destination ?? pino.destination({ fd: 1, sync: true }),
  );
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
