/**
 * Runs started by the Chatwoot channel answer through the bus, not through their caller: the gateway
 * that received the webhook answered Chatwoot at once and is not waiting (it may even be gone). So
 * when such a run ends, its outcome is sent on as `channel.chatwoot.send`, for any gateway replica to
 * post. The send happens before the run's reply is recorded, so a worker that dies in between gets
 * the run redelivered and sends again; the fixed action id lets the bus drop the second one.
 */
import type { Bus, Handler, HandlerContext, Handlers } from '@parley/bus';
import { isRecord } from '@parley/service-kit';
import { ActionError, ChatwootAddress, chatwootSendActionId, type AgentRun, type Catalog, type ChatwootSend, type RunResult } from '@parley/contracts';

export function withChatwootReplies(handlers: Handlers<Catalog, 'agent'>, bus: Bus<Catalog>): Handlers<Catalog, 'agent'> {
  const run = handlers['agent.run'];
  const wrapped: Handler<Catalog, 'agent.run'> = async (data, ctx) => {
    if (data.channel !== 'chatwoot') return run(data, ctx);
    const address = ChatwootAddress.safeParse(data.input['chatwoot']);
    if (!address.success) {
      ctx.log.warn({ runId: data.runId }, 'chatwoot run without a chatwoot reply address in its input; the answer stays in the conversation only');
      return run(data, ctx);
    }
    let result: RunResult;
    try {
      result = await run(data, ctx);
    } catch (err) {
      // Admission errors and rejected double texts are final: the contact still deserves a word.
      if (err instanceof ActionError) await send(bus, data, address.data, ctx, { content: '', handoff: false, error: { code: err.code, message: err.message } });
      throw err;
    }
    await send(bus, data, address.data, ctx, outcomeOf(result));
    return result;
  };
  return { ...handlers, 'agent.run': wrapped };
}

function outcomeOf(result: RunResult): Pick<ChatwootSend, 'content' | 'handoff' | 'error'> {
  const output = isRecord(result.output) ? result.output : {};
  // A redelivered finished run returns its stored record, which keeps the text in `output` only.
  const text = result.text ?? (typeof output['text'] === 'string' ? output['text'] : '');
  const handoff = output['handoff'] !== undefined;
  if (result.status !== 'SUCCEEDED') return { content: '', handoff, error: result.error ?? { code: 'failed', message: `run ended ${result.status}` } };
  return { content: text, handoff };
}

async function send(bus: Bus<Catalog>, data: AgentRun, address: ChatwootAddress, ctx: HandlerContext<unknown>, outcome: Pick<ChatwootSend, 'content' | 'handoff' | 'error'>): Promise<void> {
  const payload: ChatwootSend = { runId: data.runId, accountId: address.accountId, inboxId: address.inboxId, conversationId: address.conversationId, content: outcome.content, handoff: outcome.handoff };
  if (outcome.error) payload.error = outcome.error;
  await bus.send('channel.chatwoot.send', payload, { ...ctx.meta, actionId: chatwootSendActionId(data.runId) });
}
