/**
 * `channel.webhook.deliver`: POSTs a REST run's result to its webhook, from whichever gateway replica
 * picks it up, so the webhook no longer dies with the replica that started the run.
 *
 * - The URL is checked again against THIS replica's allow-list: a replica configured differently
 *   refuses (dead letter + `forbidden`) rather than post somewhere its operator did not allow.
 * - Once per run: a delivered run is remembered under the bus prefix (TTL), and a short renewed
 *   lease keeps two deliveries of one run from posting at once. The one that finds the lease taken
 *   crashes on purpose, so the bus retries it in place and it then finds the run delivered; it must
 *   not reply, because its reply would be stored under the shared action id `webhook:<runId>` and
 *   make the bus drop the holder's own retries as duplicates.
 * - Retries: WebhookSender retries network errors, 408, 429 and 5xx with backoff
 *   (WEBHOOK_MAX_ATTEMPTS); when those run out the handler crashes and the bus retries the whole
 *   delivery (catalog maxDeliveries), then dead-letters it. Any other 4xx is final at once: dead
 *   letter with the receiver's status, then an error reply.
 * At-least-once at the edge: a replica that dies between the receiver's 2xx and the delivered mark
 * posts again on redelivery; receivers dedupe by `runId`.
 */
import type { Handler, HandlerContext } from '@parley/bus';
import { ActionError, type Catalog, type RunWebhookBody, type WebhookDeliver } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';
import { deadLetterRefusal } from '../channels/dead-letter.js';
import { acquireLease } from '../channels/delivery-lease.js';
import type { WebhookSender } from '../runs/webhook.js';

export interface WebhookDeliverDeps {
  redis: RedisClient;
  prefix: string;
  /** This replica's bus consumer name, recorded in its dead letters. */
  instance: string;
  sender: WebhookSender;
  /** How long a delivered run is remembered; longer than the bus's own de-duplication (24 h). */
  deliveredTtlS: number;
  /** Lease on a run's delivery, renewed while posting. */
  leaseMs: number;
}

export const webhookKeys = (prefix: string, runId: string) => ({
  delivered: `${prefix}:webhook:{run:${runId}}:delivered`,
  lease: `${prefix}:webhook:{run:${runId}}:lease`,
});

export function webhookDeliverHandler(d: WebhookDeliverDeps): Handler<Catalog, 'channel.webhook.deliver'> {
  return async (data, ctx) => {
    const keys = webhookKeys(d.prefix, data.runId);
    if (await d.redis.exists(keys.delivered)) return { posted: false, attempts: 0 };
    const refused = d.sender.check(data.url);
    if (refused) {
      await refuse(d, data, ctx, 'refused', refused);
      throw new ActionError('forbidden', `webhook of run ${data.runId} not sent by this gateway: ${refused}`);
    }
    const lease = await acquireLease(d.redis, keys.lease, d.instance, d.leaseMs);
    if (!lease) throw new Error(`another delivery of run ${data.runId}'s webhook is posting right now`);
    try {
      if (await d.redis.exists(keys.delivered)) return { posted: false, attempts: 0 };
      const body: RunWebhookBody = { type: 'run.finished', runId: data.runId, result: data.result };
      const outcome = await d.sender.deliver(data.url, body, ctx.signal);
      const host = new URL(data.url).host; // never the whole URL: its query may carry the receiver's token
      switch (outcome.kind) {
        case 'delivered':
          await d.redis.set(keys.delivered, String(outcome.status), 'EX', d.deliveredTtlS);
          ctx.log.info({ runId: data.runId, host, status: outcome.status, attempts: outcome.attempts }, 'webhook delivered');
          return { posted: true, attempts: outcome.attempts, status: outcome.status };
        case 'rejected': {
          const why = `webhook receiver ${host} answered ${outcome.status} for run ${data.runId}`;
          await refuse(d, data, ctx, 'rejected', why, { status: outcome.status });
          throw new ActionError(outcome.status === 401 || outcome.status === 403 ? 'unauthorized' : 'invalid_payload', why);
        }
        case 'refused': {
          const why = `webhook of run ${data.runId} not sent: ${outcome.reason}`;
          await refuse(d, data, ctx, 'refused', why);
          throw new ActionError('forbidden', why);
        }
        case 'unreachable':
          throw new Error(`webhook receiver ${host} not reached for run ${data.runId} after ${outcome.attempts} attempts (${outcome.reason})`);
      }
    } finally {
      await lease.release();
    }
  };
}

async function refuse(
  d: WebhookDeliverDeps,
  data: WebhookDeliver,
  ctx: HandlerContext<never>,
  code: string,
  reason: string,
  extra: Record<string, number> = {},
): Promise<void> {
  await deadLetterRefusal(d.redis, d.prefix, d.instance, ctx, data, { code, reason, extra });
  ctx.log.warn({ runId: data.runId, code, reason }, 'webhook delivery dead-lettered');
}
