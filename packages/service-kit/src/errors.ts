/**
 * The error toolkit: `ActionError` (from contracts, so it crosses the bus unchanged), the HTTP status
 * each code maps to at the edge, and `assertNever` for exhaustive switches.
 */
import { newErrorRef } from '@parley/bus';
import { ActionError, ErrorCode, type ErrorBody } from '@parley/contracts';
import type { Logger } from 'pino';

export { ActionError, ErrorCode, type ErrorBody };

// A Record over the enum: adding an error code to contracts without a status here is a compile error.
const STATUS: Record<ErrorCode, number> = {
  invalid_payload: 400,
  unknown_action: 400,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  deadline_exceeded: 504,
  timeout: 504,
  // 499 "client closed request": the caller cancelled, nothing failed on our side.
  cancelled: 499,
  max_deliveries: 502,
  handler_error: 500,
  unavailable: 503,
  context_too_small: 422,
  model_error: 502,
  busy: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  internal: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code];
}

/**
 * What a caller outside the process may see of any thrown value. Only an ActionError keeps its
 * message; anything else becomes `internal` so stack details and connection strings never leak.
 */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof ActionError) return err.toBody();
  return { code: 'internal', message: 'internal error; see the service logs', retryable: true };
}

/** Codes that mean "it broke on our side": their messages are a service's own detail, never a client's business. */
const CRASH_CODES: ReadonlySet<ErrorCode> = new Set(['internal', 'handler_error', 'max_deliveries']);
/**
 * A second line behind the codes: detail of our own that a reported failure may still carry (a
 * driver's SQL and parameters, stack frames, connection strings).
 */
const INTERNAL_DETAIL = /Failed query:|\bparams: |\n\s+at [^\n]*:\d+:\d+|\binsert into "|\bSQLSTATE\b|\b(postgres(ql)?|rediss?):\/\//i;

/** The reference a crash is known by: the one the failing service already logged it under, else a new one. */
export function errorRefOf(err: unknown): string {
  return (err instanceof ActionError ? err.ref : undefined) ?? newErrorRef();
}

/** A failure meant for the caller, safe to show as it is; anything else is a crash to be referenced. */
export function isReportedFailure(err: unknown): err is ActionError {
  return err instanceof ActionError && !CRASH_CODES.has(err.code) && !INTERNAL_DETAIL.test(err.message);
}

/**
 * The one answer any client (WS error frame, REST body, SSE) gets for a failure. A reported failure
 * (an ActionError of a client-facing code) keeps its code and message; anything else becomes
 * `internal` with a reference, and the real error is logged beside that reference here. A
 * reference the failing service already logged (its bus reply carries it) is kept, so one id
 * finds the log line in both processes.
 */
export function toClientError(err: unknown, log: Logger, context: Record<string, unknown> = {}): ErrorBody {
  if (isReportedFailure(err)) return err.toBody();
  const ref = errorRefOf(err);
  log.error({ ...context, err, ref }, 'failed on our side; the client was given a reference');
  const retryable = err instanceof ActionError ? err.retryable : true;
  return { code: 'internal', message: `something went wrong on our side (reference ${ref})`, retryable, ref };
}

/** In the `default` of a switch over a union: a new member that is not handled fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A JSON object (not null, not an array): what a parsed body must be before its fields are read. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
