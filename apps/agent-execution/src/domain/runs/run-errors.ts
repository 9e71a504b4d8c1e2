import { errorRefOf, isReportedFailure } from '@parley/service-kit';
import { ModelError } from '@parley/llm';
import { RunStopped } from './cancel-hub.js';

export interface RunFailure {
  status: 'FAILED' | 'CANCELLED';
  code: string;
  message: string;
  /** On `internal`: the reference the caller sees and the executor logs the real error under. */
  ref?: string;
}

/** Turns whatever ended a run early into the status, code and message its caller and its record show. */
export function classifyFailure(err: unknown, signal: AbortSignal): RunFailure {
  // The signal's reason wins: a cancel surfaces from deep inside as a ModelError 'cancelled' or an AbortError.
  const stopped = signal.aborted && signal.reason instanceof RunStopped ? signal.reason : err instanceof RunStopped ? err : null;
  if (stopped) {
    const r = stopped.reason;
    switch (r.kind) {
      case 'cancelled':
        return { status: 'CANCELLED', code: 'cancelled', message: 'the run was cancelled' };
      case 'interrupted':
        return { status: 'CANCELLED', code: 'interrupted', message: `the run was interrupted by a newer message (run ${r.by})` };
      case 'timeout':
        return { status: 'FAILED', code: 'timeout', message: `the run exceeded the agent's max run time of ${r.afterMs} ms` };
      case 'shutdown':
        return { status: 'FAILED', code: 'shutdown', message: 'the worker shut down before the run finished; send the message again' };
    }
  }
  if (err instanceof ModelError) {
    const status = err.status === undefined ? '' : ` (HTTP ${err.status})`;
    const code = err.code === 'rate_limited' ? 'rate_limited' : err.code === 'timeout' ? 'timeout' : 'model_error';
    return { status: 'FAILED', code, message: `the model failed${status}: ${err.message}` };
  }
  if (isReportedFailure(err)) return { status: 'FAILED', code: err.code, message: err.message };
  if (err instanceof Error && err.name === 'GraphRecursionError')
    return { status: 'FAILED', code: 'internal', message: `the flow did not finish: ${err.message}` };
  // Anything else broke on our side (a driver error holds SQL and parameters): the run's caller,
  // its record and its event log get a reference; the error itself only reaches the log.
  const ref = errorRefOf(err);
  return { status: 'FAILED', code: 'internal', message: `the run failed on our side (reference ${ref})`, ref };
}
