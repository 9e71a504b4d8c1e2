/** Starts a queued job: `agent.run` for a message, or the direct answer as `channel.chatwoot.send`. */
import type { ActionMeta, Bus } from '@parley/bus';
import { chatwootSaveActionId, chatwootSendActionId, runAnswerMessageId, runUserMessageId, type Catalog } from '@parley/contracts';
import type { Job } from './conversation-queue.js';

export const conversationKey = (a: { accountId: number; conversationId: number }) => `cw:${a.accountId}:${a.conversationId}`;

export async function startJob(bus: Bus<Catalog>, job: Job): Promise<void> {
  const conversationId = conversationKey(job.address);
  const meta: ActionMeta = { tenantId: job.tenantId, correlationId: job.runId };
  if (job.contactId !== null) meta.userId = `chatwoot:contact:${job.address.accountId}:${job.contactId}`;
  if (job.kind === 'direct') {
    const { accountId, inboxId, conversationId: cw } = job.address;
    // No run saves this turn, so the gateway does: operators read the whole chat in Parley too.
    const base = { conversationId, channel: 'chatwoot' as const, runId: job.runId };
    await bus.send('conversation.save_message', { ...base, messageId: runUserMessageId(job.runId), role: 'user', content: job.text ?? '' }, { ...meta, actionId: chatwootSaveActionId(runUserMessageId(job.runId)) });
    await bus.send('conversation.save_message', { ...base, messageId: runAnswerMessageId(job.runId), role: 'assistant', content: job.content ?? '', metadata: { direct: true, handoff: job.handoff ?? false } }, { ...meta, actionId: chatwootSaveActionId(runAnswerMessageId(job.runId)) });
    await bus.send('channel.chatwoot.send', { runId: job.runId, accountId, inboxId, conversationId: cw, content: job.content ?? '', handoff: job.handoff ?? false }, { ...meta, actionId: chatwootSendActionId(job.runId) });
    return;
  }
  // A fresh action id per start: a stalled head started again must not be dropped as a duplicate.
  const input = { text: job.text ?? '', chatwoot: job.address, ...(job.address.messageId ? { messageId: `cw:${job.address.accountId}:m${job.address.messageId}` } : {}) };
  await bus.send('agent.run', { runId: job.runId, conversationId, input, channel: 'chatwoot', ...(job.agentId ? { agentId: job.agentId } : {}) }, { ...meta, actionId: `cw-run:${job.runId}:${Date.now()}` });
}
