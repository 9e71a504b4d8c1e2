/**
 * POST /webhooks/chatwoot: verify → parse → keep what the bot answers → dedupe + queue → 200.
 * Chatwoot waits 5 s at most and then treats the delivery as failed (an Agent Bot's conversation
 * is handed to a human by Chatwoot itself), so nothing here waits for a run: the run is put on the
 * bus and its answer leaves later through `channel.chatwoot.send`.
 */
import { uuidv7, type Bus } from '@parley/bus';
import { isRecord } from '@parley/service-kit';
import { ChatwootConversationEvent, ChatwootMessageEvent, ChatwootWebhookHead, describeZodError, type Catalog } from '@parley/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { refuse } from '../../rest/errors.js';
import { doc } from '../../rest/openapi.js';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { ChatwootConfig, InboxSettings } from './config.js';
import type { ConversationQueue } from './conversation-queue.js';
import { dispatchNext } from './dispatch.js';
import { classifyConversation, classifyMessage, savedText, type Inbound } from './inbound.js';
import type { InboxStore } from './inbox-store.js';
import { verifyDelivery } from './signature.js';

export interface WebhookDeps {
  bus: Bus<Catalog>;
  store: InboxStore;
  queue: ConversationQueue;
  config: ChatwootConfig;
  log: Logger;
  outcomes: Counter<'outcome'>;
  givenUp: Counter;
}

/** Chatwoot calls this, not API clients: documented so the whole surface is in one document. */
const WEBHOOK_DOC = doc('channels', "Chatwoot's webhook (Agent Bot or account webhook): answered at once, the reply leaves as a Chatwoot API call", {
  operationId: 'receiveChatwootWebhook',
  description:
    'Verified on the raw body: `X-Chatwoot-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<body>")>` within 5 minutes, or the inbox\'s URL token (`?token=`) for Chatwoot versions that do not sign. Events other than a contact\'s incoming message are acknowledged and ignored.',
  body: ChatwootWebhookHead.loose(),
  reply: z.object({ ok: z.literal(true), outcome: z.string() }),
  errors: [401, 503],
});

export async function registerWebhookRoute(app: FastifyInstance, d: WebhookDeps): Promise<void> {
  // Its own scope: the signature covers the raw bytes, so this route alone gets the body unparsed.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post('/webhooks/chatwoot', { schema: WEBHOOK_DOC }, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const h = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const json = parseJson(raw);
      const ids = peekIds(json);
      const inbox = d.store.resolve(ids.accountId, ids.inboxId);
      const query = req.query as Record<string, unknown> | undefined;
      const urlToken = typeof query?.['token'] === 'string' ? query['token'] : undefined;
      const verdict = inbox
        ? verifyDelivery(inbox, raw, { signature: h('x-chatwoot-signature'), timestamp: h('x-chatwoot-timestamp'), urlToken }, d.config.maxSkewS)
        : { ok: false as const, why: d.store.whyNot(ids.accountId, ids.inboxId) };
      if (!verdict.ok || !inbox) {
        d.outcomes.inc({ outcome: 'unauthorized' });
        req.log.warn({ accountId: ids.accountId, inboxId: ids.inboxId, why: verdict.ok ? 'no inbox' : verdict.why }, 'chatwoot webhook refused');
        return refuse(reply, 401, { code: 'unauthorized', message: 'the webhook delivery could not be verified', retryable: false });
      }
      if (json === undefined) return bad(reply, d, 'the body is not valid JSON');
      const head = ChatwootWebhookHead.safeParse(json);
      if (!head.success) return bad(reply, d, describeZodError(head.error));
      let inbound: Inbound;
      let event: ChatwootMessageEvent | undefined;
      if (head.data.event === 'message_created' || head.data.event === 'message_updated') {
        const m = ChatwootMessageEvent.safeParse(json);
        if (!m.success) return bad(reply, d, describeZodError(m.error));
        event = m.data;
        inbound = classifyMessage(m.data, inbox);
      } else if (head.data.event.startsWith('conversation_')) {
        const c = ChatwootConversationEvent.safeParse(json);
        if (!c.success) return bad(reply, d, describeZodError(c.error));
        inbound = classifyConversation(c.data, inbox);
        const accountId = ids.accountId ?? inbox.accountId;
        const inboxId = ids.inboxId ?? inbox.inboxId;
        // The same conversation the messages were queued under: this inbox's, of this inbox's tenant.
        const where = accountId !== null && inboxId !== null ? { tenantId: inbox.tenantId, accountId, inboxId, conversationId: c.data.id } : null;
        if (!where) inbound = { act: 'ignore', why: `${c.data.event} without an account or inbox id` };
        else if (inbound.act === 'resume' || inbound.act === 'release') {
          // The event is acknowledged either way; the stall sweep finds a queue left waiting.
          const act = inbound.act;
          await d.queue[act](where).catch((err: unknown) => d.log.warn({ err, tenantId: where.tenantId, act }, 'chatwoot conversation event not applied'));
        }
      } else {
        inbound = { act: 'ignore', why: head.data.event };
      }
      if (inbound.act === 'ignore' || inbound.act === 'resume' || inbound.act === 'release' || !event) {
        const outcome = inbound.act === 'resume' ? 'resumed' : inbound.act === 'release' ? 'released' : 'ignored';
        d.outcomes.inc({ outcome });
        return reply.code(200).send({ ok: true, outcome });
      }
      let outcome: string;
      try {
        outcome = await accept(d, inbox, event, inbound, h('x-chatwoot-delivery'));
      } catch (err) {
        // Handled here, not by Fastify: its error log would carry the URL, and with it `?token=`.
        d.outcomes.inc({ outcome: 'error' });
        req.log.error(
          { err: (err as Error).message, accountId: ids.accountId, inboxId: ids.inboxId },
          'chatwoot webhook could not be queued; Chatwoot will retry it',
        );
        return refuse(reply, 503, { code: 'unavailable', message: 'the message could not be queued; retry', retryable: true });
      }
      d.outcomes.inc({ outcome });
      return reply.code(200).send({ ok: true, outcome });
    });
  });
}

async function accept(
  d: WebhookDeps,
  inbox: InboxSettings,
  m: ChatwootMessageEvent,
  inbound: Extract<Inbound, { act: 'run' | 'direct' }>,
  deliveryId: string | undefined,
): Promise<string> {
  const address = { accountId: m.account.id, inboxId: m.inbox.id, conversationId: m.conversation.id, messageId: m.id };
  const job = {
    runId: uuidv7(),
    kind: inbound.act,
    tenantId: inbox.tenantId,
    agentId: inbox.agentId,
    address,
    contactId: m.sender?.id ?? null,
    ...(inbound.act === 'run' ? { text: inbound.text } : { text: savedText(m), content: inbound.content, handoff: inbound.handoff }),
  };
  const queued = await d.queue.enqueue(job, deliveryId?.slice(0, 128));
  if (queued.state !== 'start') return queued.state;
  await dispatchNext(d.bus, queued.next, d.givenUp, d.log);
  // A stalled head started again (or given up) by this message's arrival: the message itself waits behind it.
  return 'start' in queued.next && queued.next.start.runId === job.runId ? 'started' : 'queued';
}

function bad(reply: FastifyReply, d: WebhookDeps, message: string): FastifyReply {
  d.outcomes.inc({ outcome: 'invalid' });
  return refuse(reply, 400, { code: 'invalid_payload', message, retryable: false });
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Which inbox a delivery claims to be for, read before it is verified only to pick the secret. */
function peekIds(json: unknown): { accountId: number | null; inboxId: number | null } {
  const o = isRecord(json) ? json : {};
  const conv = isRecord(o['conversation']) ? o['conversation'] : {};
  const num = (...vs: unknown[]) => {
    for (const v of vs) if (typeof v === 'number' && Number.isInteger(v)) return v;
    return null;
  };
  const account = isRecord(o['account']) ? o['account']['id'] : undefined;
  const inbox = isRecord(o['inbox']) ? o['inbox']['id'] : undefined;
  // Conversation events carry no account; their last message does.
  const messages = Array.isArray(o['messages']) ? o['messages'] : [];
  const last = isRecord(messages[0]) ? messages[0]['account_id'] : undefined;
  return { accountId: num(account, o['account_id'], conv['account_id'], last), inboxId: num(inbox, o['inbox_id'], conv['inbox_id']) };
}
