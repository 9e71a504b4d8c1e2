/**
 * The error toolkit: `ActionError` (from contracts, so it crosses the bus unchanged), the HTTP status
 * each code maps to at the edge, and `assertNever` for exhaustive switches.
 */
import { ActionError, ErrorCode, type ErrorBody } from '@parley/contracts';

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

/** In the `default` of a switch over a union: a new member that is not handled fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A JSON object (not null, not an array): what a parsed body must be before its fields are read. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
