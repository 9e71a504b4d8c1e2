/** Starts a queued job: `agent.run` for a message, or the direct answer as `channel.chatwoot.send`. */
import type { ActionMeta, Bus } from '@parley/bus';
import {
  chatwootContactId,
  chatwootConversationId,
  chatwootSaveActionId,
  chatwootSendActionId,
  runAnswerMessageId,
  runUserMessageId,
  type Catalog,
} from '@parley/contracts';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { Job, Next } from './conversation-queue.js';

/** Sent once when a message's run kept failing and the conversation moves on without its answer. */
export const GIVE_UP_NOTICE =
  'Sorry, I could not answer your last message. Please try writing it another way, or ask for a person and someone from our team will help you.';

export async function startJob(bus: Bus<Catalog>, job: Job): Promise<void> {
  const { accountId, inboxId, conversationId: cw } = job.address;
  const conversationId = chatwootConversationId(job.address);
  const meta: ActionMeta = { tenantId: job.tenantId, correlationId: job.runId };
  // The contact owns its channel conversation: its namespaced id is the userId of every action of it.
  if (job.contactId !== null) meta.userId = chatwootContactId({ accountId, inboxId, contactId: job.contactId });
  if (job.kind === 'direct') {
    // No run saves this turn, so the gateway does: operators read the whole chat in Parley too. A
    // notice saves only itself: the contact's message is the one that kept failing.
    const base = { conversationId, channel: 'chatwoot' as const, runId: job.runId };
    if (!job.notice)
      await bus.send(
        'conversation.save_message',
        { ...base, messageId: runUserMessageId(job.runId), role: 'user', content: job.text ?? '' },
        { ...meta, actionId: chatwootSaveActionId(runUserMessageId(job.runId)) },
      );
    await bus.send(
      'conversation.save_message',
      {
        ...base,
        messageId: runAnswerMessageId(job.runId),
        role: 'assistant',
        content: job.content ?? '',
        metadata: { direct: true, handoff: job.handoff ?? false, ...(job.notice ? { gaveUp: true } : {}) },
      },
      { ...meta, actionId: chatwootSaveActionId(runAnswerMessageId(job.runId)) },
    );
    await bus.send(
      'channel.chatwoot.send',
      { runId: job.runId, accountId, inboxId, conversationId: cw, content: job.content ?? '', handoff: job.handoff ?? false },
      { ...meta, actionId: chatwootSendActionId(job.runId) },
    );
    return;
  }
  // A fresh action id per start: a stalled head started again must not be dropped as a duplicate.
  const input = {
    text: job.text ?? '',
    chatwoot: job.address,
    ...(job.address.messageId ? { messageId: `cw:${accountId}:${inboxId}:m${job.address.messageId}` } : {}),
  };
  await bus.send(
    'agent.run',
    { runId: job.runId, conversationId, input, channel: 'chatwoot', ...(job.agentId ? { agentId: job.agentId } : {}) },
    { ...meta, actionId: `cw-run:${job.runId}:${Date.now()}` },
  );
}

/** Acts on a queue step: starts its job, or gives a message up with one polite notice (counted). */
export async function dispatchNext(bus: Bus<Catalog>, next: Next, givenUp: Counter, log: Logger): Promise<void> {
  if (!next) return;
  if ('start' in next) return startJob(bus, next.start);
  const { giveUp: job, noticeRunId } = next;
  givenUp.inc();
  log.warn(
    { tenantId: job.tenantId, runId: job.runId, noticeRunId, conversationId: chatwootConversationId(job.address) },
    'chatwoot message given up after its attempts ran out; the contact gets a notice and the conversation moves on',
  );
  const { text: _text, ...rest } = job;
  await startJob(bus, { ...rest, runId: noticeRunId, kind: 'direct', content: GIVE_UP_NOTICE, handoff: false, notice: true });
}
