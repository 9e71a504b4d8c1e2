/**
 * The WhatsApp-through-Chatwoot channel: the webhook in, the inbox configuration routes, and what the
 * `channel.chatwoot.send` handler (handlers/chatwoot-send.ts) needs to answer. wiring.ts calls
 * `registerChatwoot` once and closes what it returns.
 */
import { uuidv7 } from '@parley/bus';
import { chatwootConversationId } from '@parley/contracts';
import { openDatabase } from '@parley/db';
import { OutboundGuard, SecretBox } from '@parley/service-kit';
import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { GatewayContext } from '../../context.js';
import { ChatwootApi } from './chatwoot-api.js';
import { ConversationQueue } from './conversation-queue.js';
import { dispatchNext } from './dispatch.js';
import { InboxSecretCodec } from './inbox-secrets.js';
import { InboxStore } from './inbox-store.js';
import { registerInboxRoutes } from './inboxes-route.js';
import type { SendDeps } from '../../handlers/chatwoot-send.js';
import { registerWebhookRoute } from './webhook-route.js';

export { chatwootConfig, chatwootEnvShape, type ChatwootConfig } from './config.js';

export interface ChatwootChannel {
  store: InboxStore;
  /** What the `channel.chatwoot.send` handler answers with. */
  send: SendDeps;
  close(): Promise<void>;
}

export async function registerChatwoot(app: FastifyInstance, ctx: GatewayContext, registry: Registry): Promise<ChatwootChannel> {
  const config = ctx.config.chatwoot;
  const log = ctx.log.child({ channel: 'chatwoot' });
  // PostgreSQL down at start must not hold the whole gateway (WebSocket chat included): inboxes then
  // come from env until it is back. A schema behind the code is refused either way.
  const database = await openDatabase(ctx.base.databaseUrl, {
    applicationName: 'gateway:chatwoot',
    max: 4,
    connectionTimeoutMillis: 3_000,
    whenUnreachable: 'wait',
  });
  if (!database.schemaChecked) log.warn('PostgreSQL is not reachable at start; chatwoot inboxes come from env until it is');
  const { key, previousKey } = ctx.config.secrets;
  const guard = new OutboundGuard(ctx.config.outbound);
  const store = new InboxStore(database, config.defaultInbox, new InboxSecretCodec(key ? new SecretBox(key, previousKey) : null), log, guard);
  await store.start();
  const queue = new ConversationQueue(ctx.redis, ctx.base.busPrefix, config.dedupeTtlS, config.stallMs, config.messageAttempts, uuidv7);
  const api = new ChatwootApi({ maxAttempts: config.maxAttempts, backoffMs: config.backoffMs, timeoutMs: config.requestTimeoutMs }, log, guard);
  const outcomes = new Counter({
    name: 'parley_gateway_chatwoot_webhooks_total',
    help: 'Chatwoot webhook deliveries by outcome.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const givenUp = new Counter({
    name: 'parley_gateway_chatwoot_messages_given_up_total',
    help: 'Chatwoot messages whose run kept failing, answered with a notice after CHATWOOT_MESSAGE_ATTEMPTS starts.',
    registers: [registry],
  });

  await registerWebhookRoute(app, { bus: ctx.bus, store, queue, config, log, outcomes, givenUp });
  registerInboxRoutes(app, ctx.verifier, store, ctx.agents);
  // Every replica sweeps; the re-arm script lets only one of them restart a given stalled head.
  const sweeper = setInterval(
    () => {
      queue
        .sweep()
        .then((steps) =>
          Promise.all(
            steps.map(async (next) => {
              await dispatchNext(ctx.bus, next, givenUp, log);
              if ('start' in next)
                log.warn(
                  { tenantId: next.start.tenantId, runId: next.start.runId, conversationId: chatwootConversationId(next.start.address) },
                  'restarted a chatwoot conversation whose answer never came',
                );
            }),
          ),
        )
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'chatwoot stall sweep failed'));
    },
    Math.max(250, Math.min(config.stallMs / 3, 60_000)),
  );
  sweeper.unref();
  return {
    store,
    send: { bus: ctx.bus, redis: ctx.redis, prefix: ctx.base.busPrefix, store, api, queue, ttlS: config.dedupeTtlS },
    close: () => {
      clearInterval(sweeper);
      guard.close();
      return store.close();
    },
  };
}
