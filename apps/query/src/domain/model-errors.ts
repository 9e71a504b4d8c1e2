import { ActionError } from '@parley/contracts';
import { ModelError } from '@parley/llm';

/**
 * A model failure as the caller should read it: what failed, that nothing was stored when that is
 * the case, and whether trying later may help. Non-model errors pass through (they are crashes).
 */
export function modelFailure(err: unknown, what: string, consequence: string): unknown {
  if (!(err instanceof ModelError)) return err;
  const code = err.code === 'model_error' ? 'unavailable' : err.code;
  const status = err.status === undefined ? '' : ` (HTTP ${err.status})`;
  return new ActionError(code, `${what} failed${status}: ${err.message}; ${consequence}`, {
    retryable: err.retryable || err.code === 'rate_limited' || err.code === 'timeout',
    details: { modelError: err.code, ...(err.status === undefined ? {} : { status: err.status }) },
    cause: err,
  });
}
