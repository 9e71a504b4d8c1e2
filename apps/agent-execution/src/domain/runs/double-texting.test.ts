import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test, waitFor } from '@parley/testing';
import type { RunEvent } from '@parley/contracts';
import { startHarness } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
// The poem flow keeps the conversation's lock without needing the conversation service.
const slowPoem = (conversationId: string, runId: string = randomUUID()) => ({
  runId,
  conversationId,
  flow: 'poem',
  input: { topic: 'waves [[tokens:40]] [[slow:5]]' },
  channel: 'web' as const,
});
const at = (events: RunEvent[], type: RunEvent['type']) => events.find((e) => e.type === type)?.at ?? NaN;

describe('double texting', () => {
  test('enqueue (default): the second run of a conversation starts after the first ends', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, replicas: 2 });
    const record = (runId: string) => h.caller.call('agent.get_run', { runId }, { tenantId });
    const conversationId = randomUUID();
    const [runA, runB] = [randomUUID(), randomUUID()];
    const a = h.start(slowPoem(conversationId, runA));
    await waitFor(() => a.events.length > 0, { what: 'first run started' });
    // The conversation was free: the record says RUNNING from its first write.
    expect(await record(runA)).toMatchObject({ status: 'RUNNING', startedAt: expect.any(String) });
    const b = h.start(slowPoem(conversationId, runB));
    // The second waits PENDING, not started, while the first holds the conversation.
    await waitFor(
      () =>
        record(runB).then(
          (r) => r.status === 'PENDING',
          () => false,
        ),
      { what: 'the second run recorded PENDING' },
    );
    expect(await record(runB)).toMatchObject({ startedAt: null });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.result.status, rb.result.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(at(rb.events, 'run.started')).toBeGreaterThanOrEqual(at(ra.events, 'run.completed'));
    const [doneA, doneB] = [await record(runA), await record(runB)];
    expect(Date.parse(doneB.startedAt!)).toBeGreaterThanOrEqual(Date.parse(doneA.finishedAt!));
  });

  test('enqueue: the wait for the conversation does not count toward the max run time', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    await h.caller.call('agent.update_agent', { agentId: 'default', maxRunMs: 1_500 }, { tenantId });
    const conversationId = randomUUID();
    // Each run streams two replies of ~300 ms (~600 ms, 40 % of the limit, so a slow host does not time one out);
    // the last of three waits for two, past 1,500 ms from the first start to its end.
    const run = () => ({ runId: randomUUID(), conversationId, flow: 'poem', input: { topic: 'tides [[tokens:30]] [[slow:10]]' }, channel: 'web' as const });
    const a = h.start(run());
    await waitFor(() => a.events.length > 0, { what: 'first run started' });
    const b = h.start(run());
    const c = h.start(run());
    const [ra, rb, rc] = await Promise.all([a.done, b.done, c.done]);
    expect([ra.result, rb.result, rc.result]).toMatchObject([{ status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }, { status: 'SUCCEEDED' }]);
    expect(Math.max(at(rb.events, 'run.completed'), at(rc.events, 'run.completed')) - at(ra.events, 'run.started')).toBeGreaterThan(1_500);
  });

  test('reject: a second message while a run is active gets busy; the first run is untouched', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    await h.caller.call('agent.update_agent', { agentId: 'default', doubleTexting: 'reject' }, { tenantId });
    const conversationId = randomUUID();
    const a = h.start(slowPoem(conversationId));
    await waitFor(() => a.events.length > 0, { what: 'first run started' });
    const runB = randomUUID();
    await expect(h.run(slowPoem(conversationId, runB))).rejects.toMatchObject({ code: 'busy', retryable: true });
    expect(await h.caller.call('agent.get_run', { runId: runB }, { tenantId })).toMatchObject({ status: 'FAILED', error: { code: 'busy' } });
    expect((await a.done).result.status).toBe('SUCCEEDED');
    // Delivered again once the conversation is free, the refused run is still refused, not run.
    await expect(h.run(slowPoem(conversationId, runB))).rejects.toMatchObject({ code: 'busy', retryable: true });
    // Other conversations are not affected.
    expect((await h.run(slowPoem(randomUUID()))).result.status).toBe('SUCCEEDED');
  });

  test('interrupt: the active run is cancelled and the new one runs', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, replicas: 2 });
    await h.caller.call('agent.update_agent', { agentId: 'default', doubleTexting: 'interrupt' }, { tenantId });
    const conversationId = randomUUID();
    const a = h.start(slowPoem(conversationId));
    await waitFor(() => a.events.length > 0, { what: 'first run started' });
    const runB = randomUUID();
    const b = h.start(slowPoem(conversationId, runB));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.result).toMatchObject({ status: 'CANCELLED', error: { code: 'interrupted' } });
    expect(ra.result.error!.message).toContain(runB);
    expect(rb.result.status).toBe('SUCCEEDED');
    expect(at(rb.events, 'run.started')).toBeGreaterThanOrEqual(at(ra.events, 'run.failed'));
  });

  test('a finished run delivered again while another run is active neither interrupts it nor is refused on its behalf', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const conversationId = randomUUID();
    const done = await h.run(slowPoem(conversationId));
    expect(done.result.status).toBe('SUCCEEDED');
    for (const policy of ['interrupt', 'reject'] as const) {
      await h.caller.call('agent.update_agent', { agentId: 'default', doubleTexting: policy }, { tenantId });
      // The agent is cached for 2 s per replica: wait until the active run sees the policy.
      await new Promise((r) => setTimeout(r, 2_100));
      const active = h.start(slowPoem(conversationId));
      await waitFor(() => active.events.length > 0, { what: 'the active run started' });
      // The same run again (a redelivery, a caller retrying): the first reply, rebuilt from its record and answer.
      const again = await h.run({ ...slowPoem(conversationId, done.result.runId) });
      expect(again.result).toEqual(done.result);
      expect((await active.done).result.status).toBe('SUCCEEDED');
    }
  });
});

describe('tools and roles', () => {
  test('a tool limited to operators is not offered to a customer, and is to an operator', async ({ prefix, db }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    const ask = { input: { text: 'please close this [[tool:close_conversation]]' }, channel: 'web' as const };
    const customer = await h.run({ runId: randomUUID(), ...ask }, { roles: ['customer'] });
    expect(customer.events.some((e) => e.type === 'run.step' && e.kind === 'tool_call')).toBe(false);
    const operator = await h.run({ runId: randomUUID(), ...ask }, { roles: ['operator'] });
    expect(operator.events.filter((e) => e.type === 'run.step').map((e) => e.type === 'run.step' && `${e.kind}:${e.name}`)).toEqual([
      'tool_call:close_conversation',
      'tool_result:close_conversation',
    ]);
  });
});
