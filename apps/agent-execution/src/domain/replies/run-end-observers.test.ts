// The channels told of a run's end through the bus (Chatwoot replies, run webhooks): what they are sent,
// under which action id, and the one rule for a crash (told on the last delivery only). The agent
// service in-process on the real bus, Redis, a test database and the dev model server; the gateway
// stream is read as sent.
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { pgTest as test, waitFor, type TestDatabase } from '@parley/testing';
import { ActionError, ChatwootSend, DomainAction, WebhookDeliver, busKeys, chatwootSendActionId, runWebhookActionId } from '@parley/contracts';
import { startHarness } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
const url = 'https://hooks.example.com/parley';
const chatwoot = { accountId: 1, inboxId: 2, conversationId: 3 };

/** The actions waiting on the gateway stream, as sent. */
async function sentToGateway(redis: Redis, prefix: string): Promise<DomainAction[]> {
  const entries = await redis.xrange(busKeys.stream(prefix, 'gateway'), '-', '+');
  return entries.map(([, fields]) => DomainAction.parse(JSON.parse(fields[fields.indexOf('a') + 1] ?? 'null')));
}
const deliveries = async (redis: Redis, prefix: string) =>
  (await sentToGateway(redis, prefix)).filter((a) => a.type === 'channel.webhook.deliver').map((a) => ({ id: a.id, data: WebhookDeliver.parse(a.data) }));
const chatwootSends = async (redis: Redis, prefix: string) =>
  (await sentToGateway(redis, prefix)).filter((a) => a.type === 'channel.chatwoot.send').map((a) => ({ id: a.id, data: ChatwootSend.parse(a.data) }));

/** The test database's pool with every agent_runs insert failing (not a connection error: the handler crashes). */
function failingRunInserts(db: TestDatabase): { db: TestDatabase; failed: () => number } {
  let failed = 0;
  const query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string };
    const sql = typeof first === 'string' ? first : (first.text ?? '');
    if (/^insert into "agent_runs"/i.test(sql)) {
      failed += 1;
      return Promise.reject(new Error('simulated: the run record cannot be written'));
    }
    return (db.pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  const pool = new Proxy(db.pool, { get: (target, key, receiver) => (key === 'query' ? query : Reflect.get(target, key, receiver)) as unknown }) as pg.Pool;
  return { db: { ...db, pool }, failed: () => failed };
}

describe('agent.run with notify.webhook', () => {
  test('a finished run sends channel.webhook.deliver with its result, under the action id webhook:<runId>', async ({ prefix, db, redis }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    const runId = randomUUID();
    const { result } = await h.run({ runId, flow: 'poem', input: { topic: 'hooks' }, channel: 'api', notify: { webhook: url } });
    expect(result.status).toBe('SUCCEEDED');
    expect(await deliveries(redis, prefix)).toEqual([{ id: runWebhookActionId(runId), data: { runId, url, result } }]);
  });

  test('a cancelled run and a run refused at admission send one too; a run without notify sends none', async ({ prefix, db, redis }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const cancelled = randomUUID();
    await h.caller.call('agent.cancel', { runId: cancelled }, { tenantId });
    expect((await h.run({ runId: cancelled, flow: 'poem', input: { topic: 'x' }, channel: 'api', notify: { webhook: url } })).result.status).toBe('CANCELLED');

    const refused = randomUUID();
    const err = await h.run({ runId: refused, flow: 'no-such-flow', input: {}, channel: 'api', notify: { webhook: url } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActionError);
    await h.run({ runId: randomUUID(), flow: 'poem', input: { topic: 'quiet' }, channel: 'api' });

    const sent = await deliveries(redis, prefix);
    expect(sent.map((s) => s.id).sort()).toEqual([runWebhookActionId(cancelled), runWebhookActionId(refused)].sort());
    expect(sent.find((s) => s.data.runId === cancelled)?.data.result).toMatchObject({ status: 'CANCELLED' });
    expect(sent.find((s) => s.data.runId === refused)?.data.result).toMatchObject({ status: 'FAILED', conversationId: null, error: { code: 'not_found' } });
  });
});

describe('agent.run from the Chatwoot channel', () => {
  test('its answer, and a refusal as an error, go to channel.chatwoot.send under cw-send:<runId>', async ({ prefix, db, redis }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    const answered = randomUUID();
    const { result } = await h.run({ runId: answered, flow: 'poem', input: { topic: 'tea', chatwoot }, channel: 'chatwoot' });
    const refused = randomUUID();
    await expect(h.run({ runId: refused, flow: 'no-such-flow', input: { chatwoot }, channel: 'chatwoot' })).rejects.toMatchObject({ code: 'not_found' });

    const sent = await chatwootSends(redis, prefix);
    expect(sent.find((s) => s.data.runId === answered)).toEqual({
      id: chatwootSendActionId(answered),
      data: { runId: answered, ...chatwoot, content: result.text, handoff: false },
    });
    expect(sent.find((s) => s.data.runId === refused)).toMatchObject({
      id: chatwootSendActionId(refused),
      data: { content: '', error: { code: 'not_found' } },
    });
  });
});

describe('a run that crashes on every delivery', () => {
  test('is told to every channel once, on its last delivery, as FAILED max_deliveries', { timeout: 30_000 }, async ({ prefix, db, redis }) => {
    const faulty = failingRunInserts(db);
    const h = await startHarness({ prefix, db: faulty.db, tenantId: tenant() });
    const runId = randomUUID();
    // Sent, not called: a crashed run has no reply, it is dead-lettered after its last delivery.
    await h.caller.send(
      'agent.run',
      { runId, flow: 'poem', input: { topic: 'doomed', chatwoot }, channel: 'chatwoot', notify: { webhook: url } },
      { tenantId: tenant() },
    );
    await waitFor(async () => (await deliveries(redis, prefix)).length > 0 && (await chatwootSends(redis, prefix)).length > 0, {
      what: 'the last delivery to tell both channels',
      timeoutMs: 20_000,
    });
    // Every delivery crashed; only the last one told.
    expect(faulty.failed()).toBe(3);
    const error = { code: 'max_deliveries', message: 'the run crashed on every delivery; send it again' };
    expect(await deliveries(redis, prefix)).toEqual([
      { id: runWebhookActionId(runId), data: { runId, url, result: { runId, status: 'FAILED', conversationId: null, error } } },
    ]);
    expect(await chatwootSends(redis, prefix)).toEqual([{ id: chatwootSendActionId(runId), data: { runId, ...chatwoot, content: '', handoff: false, error } }]);
  });
});
