import type { Bus, HandlerContext } from '@parley/bus';
import { isRecord } from '@parley/service-kit';
import { ChatwootAddress, chatwootSendActionId, type AgentRun, type Catalog, type ChatwootSend } from '@parley/contracts';
import type { RunOutcome } from '../runs/run-outcome.js';
import type { RunEndObserver } from './run-end-observers.js';

/**
 * Runs started by the Chatwoot channel: their end goes on as `channel.chatwoot.send`, for any gateway
 * replica to post. The contact gets the answer, or a word that it failed (refusals included); the
 * handoff flag comes from the run's output.
 */
export class ChatwootReply implements RunEndObserver {
  constructor(private readonly bus: Bus<Catalog>) {}

  async ended(data: AgentRun, outcome: RunOutcome, ctx: HandlerContext<unknown>): Promise<void> {
    if (data.channel !== 'chatwoot') return;
    const address = ChatwootAddress.safeParse(data.input['chatwoot']);
    if (!address.success) {
      ctx.log.warn({ runId: data.runId }, 'chatwoot run without a chatwoot reply address in its input; the answer stays in the conversation only');
      return;
    }
    const { accountId, inboxId, conversationId } = address.data;
    const output = isRecord(outcome.output) ? outcome.output : {};
    const handoff = output['handoff'] !== undefined;
    const payload: ChatwootSend = { runId: data.runId, accountId, inboxId, conversationId, content: '', handoff };
    if (outcome.status === 'SUCCEEDED') {
      // A finished run delivered again may keep its text in `output` only.
      payload.content = outcome.text ?? (typeof output['text'] === 'string' ? output['text'] : '');
    } else {
      payload.error = outcome.error ?? { code: 'failed', message: `run ended ${outcome.status}` };
    }
    await this.bus.send('channel.chatwoot.send', payload, { ...ctx.meta, actionId: chatwootSendActionId(data.runId) });
  }
}
