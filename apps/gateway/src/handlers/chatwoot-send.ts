/**
 * `channel.chatwoot.send`: posts a run's outcome to its Chatwoot conversation, then starts the
 * conversation's next message. Idempotent by run id: each part posted is remembered before the
 * next one leaves, so a redelivery (a crashed replica, a retry after Chatwoot's 5xx) posts only
 * what is missing. A 4xx other than 429 is final: dead-lettered with Chatwoot's answer, in a form
 * `ops` can replay once the configuration is fixed.
 */
import type { Bus, Handler, HandlerContext } from '@parley/bus';
import { ActionError, keyPart, type Catalog, type ChatwootSend } from '@parley/contracts';
import { OutboundRefused } from '@parley/service-kit';
import type { RedisClient } from '@parley/bus';
import { ChatwootRejected, type ChatwootApi } from '../channels/chatwoot/chatwoot-api.js';
import type { InboxSettings } from '../channels/chatwoot/config.js';
import type { ConversationQueue, ConversationRef } from '../channels/chatwoot/conversation-queue.js';
import { startJob } from '../channels/chatwoot/dispatch.js';
import type { InboxStore } from '../channels/chatwoot/inbox-store.js';
import { splitMessage } from '../channels/chatwoot/split.js';
import { deadLetterRefusal } from '../channels/dead-letter.js';
import { acquireLease } from '../channels/delivery-lease.js';

export interface SendDeps {
  bus: Bus<Catalog>;
  redis: RedisClient;
  prefix: string;
  store: InboxStore;
  api: ChatwootApi;
  queue: ConversationQueue;
  /** How long the posted-parts record of a run is kept. */
  ttlS: number;
}

/** Renewed every third while posting, so a dead holder blocks its run's answer for at most this long. */
const LEASE_MS = 15_000;
/** Posted for a run that ended without an answer (failed, or crashed on every delivery). */
export const APOLOGY = 'Sorry, I could not answer that just now. Please try again in a moment.';
/** After a hand-off, stale `pending` deliveries already on their way are not answered. */
const QUIET_AFTER_HANDOFF_S = 60;

export function chatwootSendHandler(d: SendDeps): Handler<Catalog, 'channel.chatwoot.send'> {
  return async (data, ctx) => {
    const ref: ConversationRef = { tenantId: ctx.meta.tenantId, accountId: data.accountId, inboxId: data.inboxId, conversationId: data.conversationId };
    const moveOn = async () => {
      const next = await d.queue.advance(ref, data.runId);
      if (next) await startJob(d.bus, next);
    };
    const found = d.store.resolve(data.accountId, data.inboxId);
    // An answer goes only to an inbox of the tenant whose conversation it is.
    const inbox = found && found.tenantId === ref.tenantId ? found : null;
    if (!inbox) {
      const why = found
        ? `chatwoot inbox ${data.accountId}/${data.inboxId} does not belong to this run's tenant`
        : d.store.whyNot(data.accountId, data.inboxId);
      await deadLetter(d, data, ctx, 'not_found', why);
      await moveOn();
      throw new ActionError('not_found', why);
    }
    const base = `${d.prefix}:chatwoot:{run:${keyPart(ref.tenantId)}:${keyPart(data.runId)}}`;
    // Two deliveries of one run at once (a reclaimed entry beside a slow original) must not both post.
    const lease = await acquireLease(d.redis, `${base}:lock`, d.bus.instance, LEASE_MS);
    if (!lease) throw new Error(`another delivery of run ${data.runId} is posting right now`);
    try {
      const result = await post(d, inbox, ref, data, `${base}:sent`);
      if (!data.handoff) await moveOn();
      return result;
    } catch (err) {
      if (err instanceof OutboundRefused) {
        // The inbox's baseUrl reaches an address the platform does not call: final until an admin fixes it.
        await deadLetter(d, data, ctx, 'refused', err.message);
        await moveOn();
        throw new ActionError('forbidden', err.message);
      }
      if (!(err instanceof ChatwootRejected)) throw err;
      await deadLetter(d, data, ctx, 'rejected', err.message, { status: err.status, body: err.body.slice(0, 4_000) });
      // This answer is lost until replayed, but the conversation's next messages are not held behind it.
      await moveOn();
      throw new ActionError(err.status === 401 || err.status === 403 ? 'unauthorized' : 'invalid_payload', err.message);
    } finally {
      await lease.release();
    }
  };
}

async function post(
  d: SendDeps,
  inbox: InboxSettings,
  ref: ConversationRef,
  data: ChatwootSend,
  stateKey: string,
): Promise<{ posted: number; handedOff?: boolean }> {
  const done = await d.redis.hgetall(stateKey);
  const text = data.content.trim() || (data.handoff ? inbox.handoffNote : APOLOGY);
  const parts = splitMessage(text);
  const missing = parts.map((_, i) => i).filter((i) => done[`p${i}`] === undefined);
  let posted = 0;
  if (missing.length > 0) {
    await d.api.typing(inbox, data.accountId, data.conversationId, true);
    for (const i of missing) {
      const { id } = await d.api.postMessage(inbox, data.accountId, data.conversationId, parts[i] ?? '');
      await d.redis
        .multi()
        .hset(stateKey, `p${i}`, String(id ?? 0))
        .expire(stateKey, d.ttlS)
        .exec();
      posted++;
    }
    await d.api.typing(inbox, data.accountId, data.conversationId, false);
  }
  if (!data.handoff) return { posted };
  // Quiet first, then the status: once Chatwoot shows the conversation open, a delivery that still says
  // `pending` must already find the bot silent (a retry hands over again, which changes nothing).
  await d.queue.handOver(ref, QUIET_AFTER_HANDOFF_S);
  if (done['handoff'] === undefined) {
    await d.api.setStatus(inbox, data.accountId, data.conversationId, 'open');
    await d.redis.multi().hset(stateKey, 'handoff', '1').expire(stateKey, d.ttlS).exec();
  }
  return { posted, handedOff: true };
}

async function deadLetter(
  d: SendDeps,
  data: ChatwootSend,
  ctx: HandlerContext<never>,
  code: string,
  reason: string,
  extra: Record<string, string | number> = {},
): Promise<void> {
  await deadLetterRefusal(d.redis, d.prefix, d.bus.instance, ctx, data, { code, reason, extra });
  ctx.log.warn({ runId: data.runId, code, reason: reason.slice(0, 500) }, 'chatwoot send dead-lettered');
}
