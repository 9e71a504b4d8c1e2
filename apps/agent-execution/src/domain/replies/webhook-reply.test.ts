import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { Redis } from 'ioredis';
import { pgTest as test } from '@parley/testing';
import { ActionError, DomainAction, WebhookDeliver, busKeys, runWebhookActionId } from '@parley/contracts';
import { startHarness } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
const url = 'https://hooks.example.com/parley';

/** The `channel.webhook.deliver` actions waiting on the gateway stream, as sent. */
async function deliveries(redis: Redis, prefix: string): Promise<Array<{ id: string; data: WebhookDeliver }>> {
  const entries = await redis.xrange(busKeys.stream(prefix, 'gateway'), '-', '+');
  return entries.flatMap(([, fields]) => {
    const action = DomainAction.parse(JSON.parse(fields[fields.indexOf('a') + 1] ?? 'null'));
    return action.type === 'channel.webhook.deliver' ? [{ id: action.id, data: WebhookDeliver.parse(action.data) }] : [];
  });
}

describe('agent.run with notify.webhook', () => {
  test('a finished run sends channel.webhook.deliver with its result, under the action id webhook:<runId>', async ({ prefix, db, redis }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    const runId = randomUUID();
    const { result } = await h.run({ runId, flow: 'poem', input: { topic: 'hooks' }, channel: 'api', notify: { webhook: url } });
    expect(result.status).toBe('SUCCEEDED');
    const sent = await deliveries(redis, prefix);
    expect(sent).toEqual([{ id: runWebhookActionId(runId), data: { runId, url, result } }]);
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
