/**
 * REST runs that asked for a webhook (`notify.webhook`) announce their end through the bus, not
 * through the gateway that started them: that replica may restart or die while the run goes on.
 * When such a run ends (succeeded, failed, cancelled, refused at admission, or crashed on its last
 * allowed delivery) `channel.webhook.deliver` goes out for any gateway replica to post. It is sent
 * before the run's reply is recorded, so a worker that dies in between gets the run redelivered and
 * sends again; the fixed action id `webhook:<runId>` lets the bus drop the second one.
 */
import { isDataException, type Bus, type Handler, type HandlerContext, type Handlers } from '@parley/bus';
import { ActionError, catalog, type AgentRun, type Catalog, type RunResult } from '@parley/contracts';

export function withWebhookReplies(handlers: Handlers<Catalog, 'agent'>, bus: Bus<Catalog>): Handlers<Catalog, 'agent'> {
  const run = handlers['agent.run'];
  const lastDelivery = catalog['agent.run'].delivery.maxDeliveries;
  const wrapped: Handler<Catalog, 'agent.run'> = async (data, ctx) => {
    const url = data.notify?.webhook;
    if (url === undefined) return run(data, ctx);
    let result: RunResult;
    try {
      result = await run(data, ctx);
    } catch (err) {
      // An ActionError is the caller's final answer; a crash is retried by the bus unless this
      // was its last delivery or the data itself is refused (both final), and nobody else would tell.
      if (err instanceof ActionError) await send(bus, data, url, ctx, failed(data, err.code, err.message));
      else if (ctx.attempt >= lastDelivery || isDataException(err)) await send(bus, data, url, ctx, failed(data, 'max_deliveries', 'the run crashed on every delivery; send it again'));
      throw err;
    }
    await send(bus, data, url, ctx, result);
    return result;
  };
  return { ...handlers, 'agent.run': wrapped };
}

function failed(data: AgentRun, code: string, message: string): RunResult {
  return { runId: data.runId, status: 'FAILED', conversationId: data.conversationId ?? null, error: { code, message } };
}

async function send(bus: Bus<Catalog>, data: AgentRun, url: string, ctx: HandlerContext<unknown>, result: RunResult): Promise<void> {
  await bus.send('channel.webhook.deliver', { runId: data.runId, url, result }, { ...ctx.meta, actionId: `webhook:${data.runId}` });
}
