import type { Bus, HandlerContext } from '@parley/bus';
import { isRecord } from '@parley/service-kit';
import { webHandoffActionId, type AgentRun, type Catalog } from '@parley/contracts';
import type { RunOutcome } from '../runs/run-outcome.js';
import type { RunEndObserver } from './run-end-observers.js';

/**
 * Web runs whose `handoff_to_human` tool asked for a person: their end goes on as
 * `channel.web.handoff`, for any gateway replica to put the conversation in the operators' queue.
 * From then on the gateway starts no bot run for it until an operator hands it back.
 */
export class WebHandoffReply implements RunEndObserver {
  constructor(private readonly bus: Bus<Catalog>) {}

  async ended(data: AgentRun, outcome: RunOutcome, ctx: HandlerContext<unknown>): Promise<void> {
    if (data.channel !== 'web' || !data.conversationId || outcome.status !== 'SUCCEEDED') return;
    const output = isRecord(outcome.output) ? outcome.output : {};
    const note = output['handoff'];
    if (note === undefined) return;
    const reason = isRecord(note) && typeof note['reason'] === 'string' ? note['reason'].slice(0, 1_000) : undefined;
    const userId = ctx.meta.userId;
    await this.bus.send(
      'channel.web.handoff',
      { runId: data.runId, conversationId: data.conversationId, ...(userId ? { userId } : {}), ...(reason ? { reason } : {}) },
      { ...ctx.meta, actionId: webHandoffActionId(data.runId) },
    );
  }
}
