import type { Bus, HandlerContext } from '@parley/bus';
import { runWebhookActionId, type AgentRun, type Catalog } from '@parley/contracts';
import { replyOf, type RunOutcome } from '../runs/run-outcome.js';
import type { RunEndObserver } from './run-end-observers.js';

/**
 * REST runs that asked for a webhook (`notify.webhook`): their end goes on as
 * `channel.webhook.deliver` with the run's result, for any gateway replica to post, so the webhook
 * does not depend on the replica that started the run staying alive. A refused run's result is FAILED
 * with the refusal's code.
 */
export class WebhookReply implements RunEndObserver {
  constructor(private readonly bus: Bus<Catalog>) {}

  async ended(data: AgentRun, outcome: RunOutcome, ctx: HandlerContext<unknown>): Promise<void> {
    const url = data.notify?.webhook;
    if (url === undefined) return;
    const { refusal: _reply, ...result } = outcome;
    await this.bus.send(
      'channel.webhook.deliver',
      { runId: data.runId, url, result: replyOf(result) },
      { ...ctx.meta, actionId: runWebhookActionId(data.runId) },
    );
  }
}
