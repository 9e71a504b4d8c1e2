import type { ActionError, RunEvent, RunResult, RunStatus, Usage } from '@parley/contracts';
import type { RunFinish } from '../../stores/run-store.js';
import type { RunEvents } from './run-events.js';

/**
 * How one delivery of `agent.run` ended. Everything a run tells the world at its end is derived from
 * this one value, here: its terminal event (`endEvent`), its record's final write (`finishOf`), the
 * caller's reply (`replyOf`) and what its channel observers send (domain/replies).
 */
export interface RunOutcome {
  runId: string;
  conversationId: string | null;
  status: Extract<RunStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;
  /** SUCCEEDED: the assistant's final text. */
  text?: string;
  output?: unknown;
  /** SUCCEEDED and saved to the conversation: the answer's message id. */
  messageId?: string;
  usage?: Usage;
  /** FAILED or CANCELLED; `ref` on `internal`: the reference the real error is logged under. */
  error?: { code: string; message: string; ref?: string };
  /**
   * The request itself was refused (admission, a busy conversation): the caller's reply is this error,
   * not a result. The run's event log and its observers still see a FAILED run.
   */
  refusal?: ActionError;
}

const ZERO_USAGE: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export function refused(runId: string, conversationId: string | null, err: ActionError): RunOutcome {
  return { runId, conversationId, status: 'FAILED', error: { code: err.code, message: err.message }, refusal: err };
}

/** Emits the run's terminal event and waits until its whole event log is written. */
export async function emitEnd(events: RunEvents, o: RunOutcome): Promise<void> {
  if (o.status === 'SUCCEEDED') {
    const completed: Omit<Extract<RunEvent, { type: 'run.completed' }>, 'type' | 'runId' | 'seq' | 'at'> = { text: o.text ?? '', usage: o.usage ?? ZERO_USAGE };
    if (o.output !== undefined) completed.output = o.output;
    if (o.messageId !== undefined) completed.messageId = o.messageId;
    events.emit('run.completed', completed);
  } else {
    const error = o.error ?? { code: 'internal', message: `the run ended ${o.status}` };
    events.emit('run.failed', { status: o.status, ...error });
  }
  await events.flush();
}

/** The run record's final write. A succeeded run without output of its own keeps its text there. */
export function finishOf(o: RunOutcome, timings?: Record<string, number>): RunFinish {
  const finish: RunFinish =
    o.status === 'SUCCEEDED' ? { status: o.status, output: o.output ?? { text: o.text ?? '' }, text: o.text ?? '' } : { status: o.status };
  if (o.messageId !== undefined) finish.messageId = o.messageId;
  if (o.error) finish.error = o.error;
  if (o.usage) finish.usage = o.usage;
  if (timings) finish.timings = timings;
  return finish;
}

/** The reply to `agent.run`; throws the refusal of a refused run. */
export function replyOf(o: RunOutcome): RunResult {
  if (o.refusal) throw o.refusal;
  const result: RunResult = { runId: o.runId, status: o.status, conversationId: o.conversationId };
  if (o.text !== undefined) result.text = o.text;
  if (o.output !== undefined) result.output = o.output;
  if (o.messageId !== undefined) result.messageId = o.messageId;
  if (o.usage) result.usage = o.usage;
  if (o.error) result.error = o.error;
  return result;
}
