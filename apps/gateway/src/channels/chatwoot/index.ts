/**
 * The WhatsApp-through-Chatwoot channel: the webhook in, the `channel.chatwoot.send` worker out, and
 * the inbox configuration routes. app.ts calls `registerChatwoot` once, registers its handlers with
 * the gateway's worker and closes what it returns.
 */
import { uuidv7, type Handler } from '@parley/bus';
import { chatwootConversationId, type Catalog } from '@parley/contracts';
import { createPool } from '@parley/db';
import { OutboundGuard } from '@parley/service-kit';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { GatewayContext } from '../../context.js';
import { SecretBox } from '../../secrets/secret-box.js';
import { ChatwootApi } from './chatwoot-api.js';
import { ConversationQueue } from './conversation-queue.js';
import { dispatchNext } from './dispatch.js';
import { InboxSecretCodec } from './inbox-secrets.js';
import { InboxStore } from './inbox-store.js';
import { registerInboxRoutes } from './inboxes-route.js';
import { chatwootSendHandler } from './send-handler.js';
import { registerWebhookRoute } from './webhook-route.js';

export { chatwootConfig, chatwootEnvShape, type ChatwootConfig } from './config.js';

export interface ChatwootChannel {
  store: InboxStore;
  /** Its part of the gateway stream's worker; app.ts registers every channel's handlers together. */
  handlers: { 'channel.chatwoot.send': Handler<Catalog, 'channel.chatwoot.send'> };
  close(): Promise<void>;
}

export async function registerChatwoot(app: FastifyInstance, ctx: GatewayContext, registry: Registry): Promise<ChatwootChannel> {
  const config = ctx.config.chatwoot;
  const log = ctx.log.child({ channel: 'chatwoot' });
  const pool = createPool(ctx.base.databaseUrl, { applicationName: 'gateway:chatwoot', max: 4 });
  const { key, previousKey } = ctx.config.secrets;
  const guard = new OutboundGuard(ctx.config.outbound);
  const store = new InboxStore(pool, config.defaultInbox, new InboxSecretCodec(key ? new SecretBox(key, previousKey) : null), log, guard);
  await store.start();
  const queue = new ConversationQueue(ctx.redis, ctx.base.busPrefix, config.dedupeTtlS, config.stallMs, config.messageAttempts, uuidv7);
  const api = new ChatwootApi({ maxAttempts: config.maxAttempts, backoffMs: config.backoffMs, timeoutMs: config.requestTimeoutMs }, log, guard);
  const outcomes = new Counter({ name: 'parley_gateway_chatwoot_webhooks_total', help: 'Chatwoot webhook deliveries by outcome.', labelNames: ['outcome'] as const, registers: [registry] });
  const givenUp = new Counter({ name: 'parley_gateway_chatwoot_messages_given_up_total', help: 'Chatwoot messages whose run kept failing, answered with a notice after CHATWOOT_MESSAGE_ATTEMPTS starts.', registers: [registry] });

  await registerWebhookRoute(app, { bus: ctx.bus, store, queue, config, log, outcomes, givenUp });
  registerInboxRoutes(app, ctx.verifier, store);
  // Every replica sweeps; the re-arm script lets only one of them restart a given stalled head.
  const sweeper = setInterval(() => {
    queue
      .sweep()
      .then((steps) =>
        Promise.all(
          steps.map(async (next) => {
            await dispatchNext(ctx.bus, next, givenUp, log);
            if ('start' in next) log.warn({ tenantId: next.start.tenantId, runId: next.start.runId, conversationId: chatwootConversationId(next.start.address) }, 'restarted a chatwoot conversation whose answer never came');
          }),
        ),
      )
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'chatwoot stall sweep failed'));
  }, Math.max(250, Math.min(config.stallMs / 3, 60_000)));
  sweeper.unref();
  return {
    store,
    handlers: { 'channel.chatwoot.send': chatwootSendHandler({ bus: ctx.bus, redis: ctx.redis, prefix: ctx.base.busPrefix, store, api, queue, ttlS: config.dedupeTtlS }) },
    close: () => {
      clearInterval(sweeper);
      guard.close();
      return store.close();
    },
  };
}
