import { z } from 'zod';

/** Every error code that can cross a process boundary (bus replies, WS frames, REST bodies). */
export const ErrorCode = z.enum([
  'invalid_payload',
  'unknown_action',
  'not_found',
  'conflict',
  'forbidden',
  'unauthorized',
  'rate_limited',
  'deadline_exceeded',
  'timeout',
  'cancelled',
  'max_deliveries',
  'handler_error',
  'unavailable',
  'context_too_small',
  'model_error',
  'busy',
  'payload_too_large',
  /** A body or document of a type the route does not take (a knowledge upload outside its allow-list). */
  'unsupported_media_type',
  /** An Idempotency-Key sent again with a different request: the key names one request only. */
  'idempotency_key_reused',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.object({
  code: ErrorCode,
  message: z.string(),
  retryable: z.boolean(),
  /** Extra machine-readable detail, e.g. the invalid field path or retryAfterMs. */
  details: z.record(z.string(), z.unknown()).optional(),
  /**
   * On `internal`: the reference of the failure, logged beside the real error (SQL, stack,
   * parameters), which never leaves the service. A caller quotes it to an operator.
   */
  ref: z.string().max(64).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The header a REST caller may name its request by, and the gateway answers every response with. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A request id the gateway accepts from a caller: bounded, and safe in logs and headers; anything else is replaced. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** Every REST error the gateway answers, whatever produced it: one shape, with the request's id. */
export const RestErrorBody = z.object({
  error: ErrorBody.extend({ requestId: z.string() }),
});
export type RestErrorBody = z.infer<typeof RestErrorBody>;

/**
 * A failure a handler means to report to its caller. Anything else a handler throws is a crash:
 * the bus leaves the action pending so it is retried, and dead-letters it after max deliveries.
 */
export class ActionError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  /** The logged failure this error stands for (see ErrorBody.ref). */
  readonly ref: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown; ref?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ActionError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
    this.ref = opts.ref;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) body.details = this.details;
    if (this.ref !== undefined) body.ref = this.ref;
    return body;
  }

  static fromBody(body: ErrorBody): ActionError {
    const opts: { retryable: boolean; details?: Record<string, unknown>; ref?: string } = { retryable: body.retryable };
    if (body.details !== undefined) opts.details = body.details;
    if (body.ref !== undefined) opts.ref = body.ref;
    return new ActionError(body.code, body.message, opts);
  }
}

/** Turns a zod error into one readable line that names the fields, e.g. `role: Invalid option`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
