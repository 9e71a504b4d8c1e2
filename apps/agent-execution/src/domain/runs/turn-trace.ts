/**
 * Every turn leaves a trace: a turn whose user message was saved but that ends without an answer
 * (failed, cancelled, timed out) saves a `status` entry with its reason, so the chat after a reload
 * and the operator's transcript show why no reply follows. The conversation service keeps status
 * entries out of every model context.
 */
import { runStatusMessageId, type TurnOutcome, type TurnStatus } from '@parley/contracts';
import type { Logger } from 'pino';
import type { ConversationLease, TurnDeps, TurnRequest } from './conversation-turn.js';
import type { RunOutcome } from './run-outcome.js';

/** How long the trace's save may take: the run is over, its own signal is already aborted when it was stopped. */
const TRACE_SAVE_MS = 5_000;

/** The status entry of an outcome without an answer; null for a succeeded or refused run (nothing of it was saved). */
export function turnStatusOf(o: RunOutcome): (TurnStatus & { message: string }) | null {
  if (o.status === 'SUCCEEDED' || o.refusal) return null;
  const code = o.error?.code ?? 'internal';
  const outcome: TurnOutcome = o.status === 'CANCELLED' ? 'cancelled' : code === 'timeout' ? 'timed_out' : 'failed';
  return { outcome, code, runId: o.runId, message: o.error?.message ?? `the run ended ${o.status.toLowerCase()}` };
}

/**
 * Saves the outcome's status entry under the run's lock (still held: the lease is released after
 * the run ends). Idempotent by message id, so a redelivered end saves it once. A failed save is
 * logged, never the run's failure: the run's record and events keep the reason either way.
 */
export async function saveTurnTrace(
  d: TurnDeps,
  lease: ConversationLease,
  r: TurnRequest & { admitted: { conversationId: string } },
  o: RunOutcome,
  log: Logger,
): Promise<void> {
  const status = turnStatusOf(o);
  if (!status) return;
  const { message, ...turnStatus } = status;
  try {
    await d.conversation.save(
      r.meta,
      r.admitted.conversationId,
      r.runId,
      r.admitted.agent.agentId,
      r.channel,
      { messageId: runStatusMessageId(r.runId), role: 'status', content: message, status: turnStatus },
      lease.fence,
      AbortSignal.timeout(TRACE_SAVE_MS),
    );
  } catch (err) {
    log.warn({ err, runId: r.runId, code: status.code }, 'could not save the status entry of a turn without an answer');
  }
}
