import type { Logger } from 'pino';
import { isRecord } from '@parley/service-kit';
import type { ActionMeta, Bus } from '@parley/bus';
import { ActionError, runAnswerMessageId, type Catalog, type HistoryMessage, type RunEvent, type RunRecord, type RunResult } from '@parley/contracts';
import type { RunStore } from '../stores/run-store.js';
import type { RunAnswers } from './run-answers.js';
import type { RunEvents } from './run-events.js';

/** Newest pages of history searched for a run's answer (other runs may have written after it). */
const HISTORY_PAGES = 5;

export interface RecoveryDeps {
  bus: Bus<Catalog>;
  runs: RunStore;
  answers: RunAnswers;
}

/**
 * A redelivered `agent.run` whose previous delivery got as far as its answer. That delivery may have
 * been killed (kill -9) or crashed (PostgreSQL down on the final status write, the bus then retries
 * in place) after `conversation.save_message` stored the answer: failing the run `worker_lost` would
 * show the user an error beside an answer the history holds. Nothing is replayed here — no model or
 * tool call — the run is only recorded as what it was. A killed worker's conversation lock is taken
 * over by this delivery's ConversationTurn (same run id) and given back when the delivery ends.
 */
export class RunRecovery {
  constructor(private readonly d: RecoveryDeps) {}

  /** The run recorded SUCCEEDED with its answer, or null when its previous delivery did not finish it (the caller decides). */
  async completeIfAnswered(runId: string, conversationId: string | null, meta: ActionMeta, events: RunEvents, log: Logger): Promise<RunResult | null> {
    const answer = await this.d.answers.get(runId);
    let text = answer?.text;
    let messageId = answer?.messageId;
    if (!answer || messageId) {
      // A conversational run is done only if the conversation holds its answer (message ids are deterministic).
      if (!conversationId) return null;
      messageId ??= runAnswerMessageId(runId);
      const saved = await this.findMessage(conversationId, messageId, meta, log);
      if (!saved) return null;
      text ??= saved.content;
    }
    const finalText = text ?? '';
    const usage = answer?.usage;
    const output = answer?.output;
    await this.d.runs.finish(runId, { status: 'SUCCEEDED', output: output ?? { text: finalText }, ...(usage ? { usage } : {}), ...(answer?.timings ? { timings: answer.timings } : {}) });
    const completed: Omit<Extract<RunEvent, { type: 'run.completed' }>, 'type' | 'runId' | 'seq' | 'at'> = { text: finalText, usage: usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 } };
    if (output !== undefined) completed.output = output;
    if (messageId) completed.messageId = messageId;
    events.emit('run.completed', completed);
    await events.flush();
    log.warn({ runId }, 'run redelivered after its answer was saved; recorded SUCCEEDED with that answer');
    const result: RunResult = { runId, status: 'SUCCEEDED', conversationId, text: finalText };
    if (usage) result.usage = usage;
    if (output !== undefined) result.output = output;
    if (messageId) result.messageId = messageId;
    return result;
  }

  /**
   * The reply to a finished run delivered again (the bus redelivering it, a caller retrying): what its
   * first delivery answered, rebuilt from its record and its answer. agent.run has no done-mark, so
   * the bus neither looks one up before every run nor keeps every reply in Redis for a day.
   */
  async replay(record: RunRecord): Promise<RunResult> {
    // A refused double text was an error reply, not a run outcome.
    if (record.status === 'FAILED' && record.error?.code === 'busy') throw new ActionError('busy', record.error.message, { retryable: true });
    const result: RunResult = { runId: record.runId, status: record.status, conversationId: record.conversationId };
    if (record.error) result.error = record.error;
    if (record.usage) result.usage = record.usage;
    if (record.status !== 'SUCCEEDED') return result;
    const answer = await this.d.answers.get(record.runId);
    if (answer) {
      result.text = answer.text;
      if (answer.output !== undefined) result.output = answer.output;
      if (answer.messageId) result.messageId = answer.messageId;
    } else {
      // Older than the answer's 24 h: the record's output holds the text of a flow without output of its own.
      result.output = record.output;
      const text = isRecord(record.output) && typeof record.output['text'] === 'string' ? record.output['text'] : undefined;
      if (text !== undefined) result.text = text;
    }
    return result;
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
