import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export type ModelErrorCode = 'model_error' | 'timeout' | 'cancelled' | 'rate_limited';

/**
 * Every failure of a model call. `message` is the provider's own message (what a run's error shows),
 * `status` the HTTP status when there was one. Codes are a subset of the contracts' ErrorCode.
 */
export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(code: ModelErrorCode, message: string, opts: { status?: number; retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ModelError';
    this.code = code;
    this.status = opts.status;
    this.retryable = opts.retryable ?? false;
  }
}

/** Why our own controller aborted a call: the caller cancelled, or the deadline passed. */
export type AbortReason = 'cancelled' | 'timeout';

export function abortError(reason: AbortReason, timeoutMs: number): ModelError {
  return reason === 'timeout'
    ? new ModelError('timeout', `model call timed out after ${timeoutMs} ms`, { retryable: true })
    : new ModelError('cancelled', 'model call cancelled', { retryable: false });
}

function providerMessage(err: APIError): string {
  const body: unknown = err.error;
  if (body && typeof body === 'object' && 'message' in body && typeof body.message === 'string') return body.message;
  return err.message;
}

/**
 * A connection that died after the reply began (the SDK only wraps failures before the headers):
 * node:http reports ECONNRESET ("aborted"), undici's fetch a TypeError "terminated".
 */
function isBrokenConnection(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  if ('code' in err && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return true;
  return err instanceof TypeError && err.message === 'terminated';
}

/**
 * Maps what the SDK (or a stream) threw to a ModelError. `aborted` is set when our own controller
 * fired, because then the SDK's error (a user abort, or a stream that simply ended) says nothing useful.
 */
export function toModelError(err: unknown, aborted: AbortReason | null, timeoutMs: number): ModelError {
  if (err instanceof ModelError) return err;
  if (aborted) return abortError(aborted, timeoutMs);
  if (err instanceof APIUserAbortError) return abortError('cancelled', timeoutMs);
  if (err instanceof APIConnectionTimeoutError) return abortError('timeout', timeoutMs);
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return new ModelError('model_error', `cannot reach the model server (${err.message}${cause})`, { retryable: true, cause: err });
  }
  if (err instanceof APIError) {
    const status = typeof err.status === 'number' ? err.status : undefined;
    const message = providerMessage(err);
    if (status === 429) return new ModelError('rate_limited', message, { status, retryable: true, cause: err });
    const retryable = status === undefined || status === 408 || status >= 500;
    return new ModelError('model_error', message, status === undefined ? { retryable, cause: err } : { status, retryable, cause: err });
  }
  if (isBrokenConnection(err)) {
    return new ModelError('model_error', `the model server closed the connection mid-reply (${err.message})`, { retryable: true, cause: err });
  }
  if (err instanceof SyntaxError) {
    return new ModelError('model_error', `the model server sent a malformed stream chunk (${err.message})`, { retryable: true, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ModelError('model_error', message, { retryable: false, cause: err });
}
