/** The REST runs' webhook channel: the `channel.webhook.deliver` worker, wired from the gateway's context. */
import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { GatewayContext } from '../../context.js';
import { webhookDeliverHandler } from './deliver-handler.js';

/** A week: replays of old dead letters still find the run delivered. */
const DELIVERED_TTL_S = 7 * 24 * 3600;
/** Renewed every third while posting, so a dead holder blocks its run for at most this long. */
const LEASE_MS = 15_000;

export function webhookHandlers(ctx: GatewayContext): { 'channel.webhook.deliver': Handler<Catalog, 'channel.webhook.deliver'> } {
  return {
    'channel.webhook.deliver': webhookDeliverHandler({
      redis: ctx.redis,
      prefix: ctx.base.busPrefix,
      instance: ctx.bus.instance,
      sender: ctx.webhooks,
      deliveredTtlS: DELIVERED_TTL_S,
      leaseMs: LEASE_MS,
    }),
  };
}
