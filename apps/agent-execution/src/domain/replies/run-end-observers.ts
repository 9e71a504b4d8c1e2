import { isDataException, type Bus, type HandlerContext } from '@parley/bus';
import { catalog, type AgentRun, type Catalog } from '@parley/contracts';
import type { RunOutcome } from '../runs/run-outcome.js';
import { ChatwootReply } from './chatwoot-reply.js';
import { WebhookReply } from './webhook-reply.js';
import { WebHandoffReply } from './web-handoff.js';

/**
 * A channel answered through the bus rather than by the run's caller (which may have answered its own
 * client at once, or be gone). Told of a run's end before the run's reply is sent, so a worker that
 * dies in between gets the run redelivered and tells again: what it sends must carry a fixed action id
 * (contracts/run-ids.ts) for the bus to drop the second one.
 */
export interface RunEndObserver {
  ended(data: AgentRun, outcome: RunOutcome, ctx: HandlerContext<unknown>): Promise<void>;
}

/**
 * The observers of every run's end, with one rule for when an end is final: any outcome is (a
 * success, a failure, a cancel, a refusal, a finished run delivered again); a crash is final only on
 * the action's last delivery (or at once when the data itself is refused), after which the bus dead-letters the run and nobody else would tell, so
 * it is told then as FAILED `max_deliveries`. Earlier crashes are retried and tell nothing.
 */
export class RunEndObservers {
  private readonly lastDelivery = catalog['agent.run'].delivery.maxDeliveries;

  constructor(private readonly observers: readonly RunEndObserver[]) {}

  /** The channels' observers, and `more` (run metrics). */
  static forChannels(bus: Bus<Catalog>, more: readonly RunEndObserver[] = []): RunEndObservers {
    return new RunEndObservers([new ChatwootReply(bus), new WebhookReply(bus), new WebHandoffReply(bus), ...more]);
  }

  async ended(data: AgentRun, outcome: RunOutcome, ctx: HandlerContext<unknown>): Promise<void> {
    await Promise.all(this.observers.map((o) => o.ended(data, outcome, ctx)));
  }

  async crashed(data: AgentRun, ctx: HandlerContext<unknown>, err: unknown): Promise<void> {
    // A data exception is not retried by the bus (the same data fails the same way): final at once.
    if (ctx.attempt < this.lastDelivery && !isDataException(err)) return;
    const error = { code: 'max_deliveries', message: 'the run crashed on every delivery; send it again' };
    await this.ended(data, { runId: data.runId, conversationId: data.conversationId ?? null, status: 'FAILED', error }, ctx);
  }
}
