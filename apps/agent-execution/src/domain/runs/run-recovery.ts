import type { Logger } from 'pino';
import { isRecord } from '@parley/service-kit';
import type { ActionMeta, Bus } from '@parley/bus';
import { ActionError, runAnswerMessageId, type Catalog, type HistoryMessage, type RunRecord } from '@parley/contracts';
import type { RunAnswers } from './run-answers.js';
import type { RunOutcome } from './run-outcome.js';

/** Newest pages of history searched for a run's answer (other runs may have written after it). */
const HISTORY_PAGES = 5;

export interface RecoveryDeps {
  bus: Bus<Catalog>;
  answers: RunAnswers;
}

/**
 * A delivery of `agent.run` for a run an earlier delivery already got far with. Nothing is replayed
 * here (no model or tool call): the run is only found to be what it was. Recovery answers; the
 * lifecycle records and emits what it answers (run-lifecycle.ts).
 */
export class RunRecovery {
  constructor(private readonly d: RecoveryDeps) {}

  /**
   * A run whose previous delivery produced its answer and then died (kill -9) or crashed (PostgreSQL
   * down on the final status write): SUCCEEDED with that answer, since failing it would show the user
   * an error beside an answer the history holds. A conversational run counts as answered only once the
   * conversation holds the answer (message ids are deterministic). Null: the previous delivery did not finish it.
   */
  async answered(
    runId: string,
    conversationId: string | null,
    meta: ActionMeta,
    log: Logger,
  ): Promise<{ outcome: RunOutcome; timings?: Record<string, number> } | null> {
    const answer = await this.d.answers.get(runId);
    let text = answer?.text;
    let messageId = answer?.messageId;
    if (!answer || messageId) {
      if (!conversationId) return null;
      messageId ??= runAnswerMessageId(runId);
      const saved = await this.findMessage(conversationId, messageId, meta, log);
      if (!saved) return null;
      text ??= saved.content;
    }
    const outcome: RunOutcome = { runId, conversationId, status: 'SUCCEEDED', text: text ?? '' };
    if (answer?.usage) outcome.usage = answer.usage;
    if (answer?.output !== undefined) outcome.output = answer.output;
    if (messageId) outcome.messageId = messageId;
    return answer?.timings ? { outcome, timings: answer.timings } : { outcome };
  }

  /**
   * A finished run delivered again (the bus redelivering it, a caller retrying): what its first
   * delivery answered, rebuilt from its record and its answer. agent.run has no done-mark (docs/adr/0002).
   */
  async replay(record: RunRecord): Promise<RunOutcome> {
    const status = record.status === 'SUCCEEDED' || record.status === 'CANCELLED' ? record.status : 'FAILED';
    const outcome: RunOutcome = { runId: record.runId, conversationId: record.conversationId, status };
    if (record.error) outcome.error = record.error;
    if (record.usage) outcome.usage = record.usage;
    // A refused double text was an error reply, not a run outcome: refused again.
    if (record.status === 'FAILED' && record.error?.code === 'busy') outcome.refusal = new ActionError('busy', record.error.message, { retryable: true });
    if (status !== 'SUCCEEDED') return outcome;
    const answer = await this.d.answers.get(record.runId);
    if (answer) {
      outcome.text = answer.text;
      if (answer.output !== undefined) outcome.output = answer.output;
      if (answer.messageId) outcome.messageId = answer.messageId;
    } else {
      // Older than the answer's 24 h: the record's output holds the text of a flow without output of its own.
      outcome.output = record.output;
      const text = isRecord(record.output) && typeof record.output['text'] === 'string' ? record.output['text'] : undefined;
      if (text !== undefined) outcome.text = text;
    }
    return outcome;
  }

  private async findMessage(conversationId: string, messageId: string, meta: ActionMeta, log: Logger): Promise<HistoryMessage | null> {
    let before: number | undefined;
    try {
      for (let page = 0; page < HISTORY_PAGES; page++) {
        const data = before === undefined ? { conversationId, limit: 200 } : { conversationId, limit: 200, before };
        const h = await this.d.bus.call('conversation.get_history', data, meta);
        const found = h.messages.find((m) => m.messageId === messageId);
        if (found) return found;
        if (!h.hasMore || !h.messages[0]) return null;
        before = h.messages[0].seq;
      }
    } catch (err) {
      if (err instanceof ActionError && err.code === 'not_found') return null;
      // Cannot tell: the caller falls back to what it does for a run that did not finish.
      log.warn({ err: err instanceof Error ? err.message : String(err), conversationId }, 'could not read the history to find the answer of a redelivered run');
    }
    return null;
  }
}
