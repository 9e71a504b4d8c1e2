import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test, waitFor } from '@parley/testing';
import { startHarness, tokensOf } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;

describe('agent.run when things go wrong', () => {
  test('a 429 from the model is retried and the run succeeds', async ({ prefix, db }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    h.model.control.retryAfterMs = 5;
    const { result, events } = await h.run({ runId: randomUUID(), input: { text: 'hello [[fail:429:2]]' }, channel: 'api' });
    expect(result.status).toBe('SUCCEEDED');
    expect(tokensOf(events)).toBe(result.text);
    expect(h.model.control.stats()).toMatchObject({ byStatus: { 429: 2, 200: 1 } });
  });

  test('a model that fails with 500 every time fails the run with the provider message', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, modelRetries: 1 });
    h.model.control.retryAfterMs = 5;
    const runId = randomUUID();
    const { result, events } = await h.run({ runId, input: { text: 'hello [[fail:500]]' }, channel: 'api' });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'model_error' } });
    expect(result.error!.message).toMatch(/^the model failed \(HTTP 500\): The dev model server failed on purpose with 500/);
    expect(events[events.length - 1]).toMatchObject({ type: 'run.failed', status: 'FAILED', code: 'model_error' });
    const record = await h.caller.call('agent.get_run', { runId }, { tenantId });
    expect(record).toMatchObject({ status: 'FAILED', error: { code: 'model_error' } });
  });

  test('a model that hangs fails the run with timeout after the agent max run time', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    await h.caller.call('agent.update_agent', { agentId: 'default', maxRunMs: 1_000 }, { tenantId });
    const started = Date.now();
    const { result } = await h.run({ runId: randomUUID(), input: { text: 'hello [[hang]]' }, channel: 'api' });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'timeout' } });
    expect(result.error!.message).toContain('max run time of 1000 ms');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  test('agent.cancel stops a run mid-stream on another replica; the run ends CANCELLED', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, replicas: 2 });
    const runId = randomUUID();
    const run = h.start({ runId, input: { text: 'sing [[tokens:400]] [[slow:10]]' }, channel: 'api' });
    await waitFor(() => run.events.filter((e) => e.type === 'run.token').length >= 3, { what: 'tokens streaming' });
    // Several cancels: whichever replica takes each, the one running the run stops it.
    const replies = await Promise.all([1, 2, 3].map(() => h.caller.call('agent.cancel', { runId }, { tenantId })));
    expect(replies.some((r) => r.cancelled)).toBe(true);
    const { result, events } = await run.done;
    expect(result).toMatchObject({ status: 'CANCELLED', error: { code: 'cancelled' } });
    expect(events.filter((e) => e.type === 'run.token').length).toBeLessThan(400);
    expect(events[events.length - 1]).toMatchObject({ type: 'run.failed', status: 'CANCELLED' });
    expect(await h.caller.call('agent.get_run', { runId }, { tenantId })).toMatchObject({ status: 'CANCELLED' });
    expect(await h.caller.call('agent.cancel', { runId }, { tenantId })).toEqual({ runId, cancelled: false });
  });

  test('a cancel sent before the run is picked up stops it at once', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const runId = randomUUID();
    expect(await h.caller.call('agent.cancel', { runId }, { tenantId })).toEqual({ runId, cancelled: true });
    const { result } = await h.run({ runId, flow: 'poem', input: { topic: 'x' }, channel: 'api' });
    expect(result.status).toBe('CANCELLED');
  });
});
