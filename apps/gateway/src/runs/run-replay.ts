/**
 * A finished run told again from its record (agent-execution keeps its steps, final text and terminal seq
 * with it, for good) once its event log has expired: the events a follower of the log would have seen,
 * bar tokens and run.started (the final text is in the terminal event).
 */
import { isRecord } from '@parley/service-kit';
import type { RunEvent, RunRecord } from '@parley/contracts';

const ZERO_USAGE = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export function eventsOfRecord(r: RunRecord): RunEvent[] {
  const events: RunEvent[] = (r.steps ?? []).map((s) => ({ type: 'run.step' as const, runId: r.runId, ...s }));
  // A run recorded before records kept the terminal seq: numbered after its last kept step.
  const seq = r.endSeq ?? (events.at(-1)?.seq ?? 0) + 1;
  const at = r.finishedAt ? Date.parse(r.finishedAt) : Date.now();
  if (r.status === 'SUCCEEDED') {
    const text = r.text ?? (isRecord(r.output) && typeof r.output['text'] === 'string' ? r.output['text'] : '');
    events.push({
      type: 'run.completed',
      runId: r.runId,
      seq,
      at,
      text,
      usage: r.usage ?? ZERO_USAGE,
      ...(r.output !== null && r.output !== undefined ? { output: r.output } : {}),
      ...(r.messageId ? { messageId: r.messageId } : {}),
    });
  } else if (r.status === 'FAILED' || r.status === 'CANCELLED') {
    const error = r.error ?? { code: 'internal', message: `the run ended ${r.status}` };
    events.push({ type: 'run.failed', runId: r.runId, seq, at, status: r.status, ...error });
  }
  return events;
}
