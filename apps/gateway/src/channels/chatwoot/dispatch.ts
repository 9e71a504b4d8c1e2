/** Starts a queued job: `agent.run` for a message, or the direct answer as `channel.chatwoot.send`. */
import type { ActionMeta, Bus } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { Job } from './conversation-queue.js';

export const conversationKey = (a: { accountId: number; conversationId: number }) => `cw:${a.accountId}:${a.conversationId}`;

export async function startJob(bus: Bus<Catalog>, job: Job): Promise<void> {
  const conversationId = conversationKey(job.address);
  const meta: ActionMeta = { tenantId: job.tenantId, conversationId, correlationId: job.runId };
  if (job.contactId !== null) meta.userId = `chatwoot:contact:${job.address.accountId}:${job.contactId}`;
  if (job.kind === 'direct') {
    const { accountId, inboxId, conversationId: cw } = job.address;
    await bus.send('channel.chatwoot.send', { runId: job.runId, accountId, inboxId, conversationId: cw, content: job.content ?? '', handoff: job.handoff ?? false }, { ...meta, actionId: `cw-send:${job.runId}` });
    return;
  }
  // A fresh action id per start: a stalled head started again must not be dropped as a duplicate.
  const input = { text: job.text ?? '', chatwoot: job.address, ...(job.address.messageId ? { messageId: `cw:${job.address.accountId}:m${job.address.messageId}` } : {}) };
  await bus.send('agent.run', { runId: job.runId, conversationId, input, channel: 'chatwoot', ...(job.agentId ? { agentId: job.agentId } : {}) }, { ...meta, actionId: `cw-run:${job.runId}:${Date.now()}` });
}
