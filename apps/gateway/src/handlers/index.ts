/**
 * The `gateway` stream's handlers: each channel's outbound delivery. One worker consumes the stream,
 * so it needs every channel's handler at once (a missing one is a compile error).
 */
import type { Handlers } from '@parley/bus';
import { webHandoffMarkerId, type Catalog } from '@parley/contracts';
import type { GatewayContext } from '../context.js';
import { chatwootSendHandler, type SendDeps } from './chatwoot-send.js';
import { webhookDeliverHandler } from './webhook-deliver.js';

/** A week: replays of old dead letters still find the run delivered. */
const WEBHOOK_DELIVERED_TTL_S = 7 * 24 * 3600;
/** Renewed every third while posting, so a dead holder blocks its run's webhook for at most this long. */
const WEBHOOK_LEASE_MS = 15_000;

export function gatewayHandlers(ctx: GatewayContext, chatwoot: SendDeps): Handlers<Catalog, 'gateway'> {
  return {
    'channel.chatwoot.send': chatwootSendHandler(chatwoot),
    'channel.webhook.deliver': webhookDeliverHandler({
      redis: ctx.redis,
      prefix: ctx.base.busPrefix,
      instance: ctx.bus.instance,
      sender: ctx.webhooks,
      deliveredTtlS: WEBHOOK_DELIVERED_TTL_S,
      leaseMs: WEBHOOK_LEASE_MS,
    }),
    // The marker's id comes from the run, so a redelivery saves no second marker.
    'channel.web.handoff': async (data, hctx) => {
      const h = await ctx.handoffs.askForHuman(
        hctx.action.tenantId,
        data.conversationId,
        data.userId ?? hctx.action.userId ?? '',
        data.reason ?? '',
        webHandoffMarkerId(data.runId),
      );
      return { state: h?.state ?? 'bot' };
    },
  };
}
