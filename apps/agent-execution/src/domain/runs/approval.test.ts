import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test, waitFor } from '@parley/testing';
import { ActionError, decodeRunLogEntry, runEventLogKey, type RunEvent, type RunRecord } from '@parley/contracts';
import type { Redis } from 'ioredis';
import { startHarness, type Harness } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;

/** An agent whose current_time calls wait for a person, and a chat run that makes one ("what time is it"). */
async function pausedRun(h: Harness, tenantId: string) {
  await h.caller.call('agent.update_agent', { agentId: 'default', requiresApproval: ['current_time'] }, { tenantId, roles: ['admin'] });
  const runId = randomUUID();
  const { result, events } = await h.run({ runId, input: { text: 'What time is it?' }, channel: 'web' }, { userId: 'alice' });
  const asked = events.find((e) => e.type === 'run.step' && e.name === 'approval_requested');
  return { runId, result, events, approvalId: asked?.type === 'run.step' ? (asked.data as { approvalId: string }).approvalId : '' };
}

async function ended(h: Harness, tenantId: string, runId: string): Promise<RunRecord> {
  let record: RunRecord | undefined;
  await waitFor(
    async () => {
      record = await h.caller.call('agent.get_run', { runId }, { tenantId });
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(record.status);
    },
    { what: `run ${runId} to end`, timeoutMs: 20_000 },
  );
  return record!;
}

async function logOf(redis: Redis, prefix: string, runId: string): Promise<RunEvent[]> {
  return (await redis.xrange(runEventLogKey(prefix, runId), '-', '+')).flatMap(([, f]) => decodeRunLogEntry(f));
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (err: unknown) => (err instanceof ActionError ? { code: err.code, message: err.message, details: err.details } : { code: 'thrown', message: String(err) }),
  );

describe('approval interrupts', () => {
  test('a gated tool call pauses the run (PAUSED, approval_requested step with the arguments, nothing run); approve runs it and the answer comes', async ({
    prefix,
    db,
    redis,
  }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { runId, result, events, approvalId } = await pausedRun(h, tenantId);

    expect(result).toMatchObject({ runId, status: 'PAUSED' });
    const kinds = events.map((e) => (e.type === 'run.step' ? `${e.kind}:${e.name}` : e.type));
    expect(kinds).toEqual(['run.started', 'log:approval_requested']);
    const paused = await h.caller.call('agent.get_run', { runId }, { tenantId });
    expect(paused).toMatchObject({ status: 'PAUSED', approval: { approvalId, tool: 'current_time', args: {}, approver: 'user' } });
    // The step is kept with the record, so a reload (GET, SSE replay) shows what the run waits on.
    expect(paused.steps?.map((s) => s.name)).toEqual(['approval_requested']);

    expect(await h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId, userId: 'alice' })).toEqual({
      runId,
      status: 'RUNNING',
    });
    const record = await ended(h, tenantId, runId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.text).toContain('current_time returned');
    const log = await logOf(redis, prefix, runId);
    // One numbering across the pause: no gap, no repeat, and the tool ran only after the decision.
    expect(log.map((e) => e.seq)).toEqual(log.map((_, i) => i + 1));
    const logged = log.map((e) => (e.type === 'run.step' ? `${e.kind}:${e.name}` : e.type));
    expect(logged.slice(0, 4)).toEqual(['run.started', 'log:approval_requested', 'tool_call:current_time', 'tool_result:current_time']);
    expect(logged.at(-1)).toBe('run.completed');
    expect(record.steps?.map((s) => s.name)).toEqual(['approval_requested', 'current_time', 'current_time']);

    // A second decision, and a decision on a run that is not waiting: conflict. Another tenant's run: not_found.
    expect(await refusal(h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId }))).toMatchObject({ code: 'conflict' });
    expect(await refusal(h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId: tenant() }))).toMatchObject({
      code: 'not_found',
    });
  });

  test('edit runs the tool with the edited arguments; arguments that do not fit the schema are refused naming the field', async ({ prefix, db, redis }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { runId, approvalId } = await pausedRun(h, tenantId);

    expect(await refusal(h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'edit' }, { tenantId }))).toMatchObject({
      code: 'invalid_payload',
      details: { fields: ['args'] },
    });
    const bad = await refusal(h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'edit', args: { timezone: 5 } }, { tenantId }));
    expect(bad).toMatchObject({ code: 'invalid_payload', details: { fields: ['args.timezone'] } });
    expect(await refusal(h.caller.call('agent.decide_approval', { runId, approvalId: 'call_other', decision: 'approve' }, { tenantId }))).toMatchObject({
      code: 'conflict',
    });
    // Still waiting after the refusals.
    expect((await h.caller.call('agent.get_run', { runId }, { tenantId })).status).toBe('PAUSED');

    await h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'edit', args: { timezone: 'Asia/Tokyo' } }, { tenantId });
    expect((await ended(h, tenantId, runId)).status).toBe('SUCCEEDED');
    const call = (await logOf(redis, prefix, runId)).find((e) => e.type === 'run.step' && e.kind === 'tool_call');
    expect(call).toMatchObject({ name: 'current_time', data: { arguments: { timezone: 'Asia/Tokyo' } } });
  });

  test('reject: the tool does not run, the model is told why and still answers', async ({ prefix, db, redis }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { runId, approvalId } = await pausedRun(h, tenantId);

    await h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'reject', reason: 'not during the audit' }, { tenantId });
    const record = await ended(h, tenantId, runId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.text).toContain('rejected: not during the audit');
    const result = (await logOf(redis, prefix, runId)).find((e) => e.type === 'run.step' && e.kind === 'tool_result');
    expect(result).toMatchObject({ data: { ok: false, rejected: true, reason: 'not during the audit' } });
  });

  test('a pause that outlives APPROVAL_TIMEOUT_MS fails the run with approval_timeout', async ({ prefix, db, redis }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, vars: { APPROVAL_TIMEOUT_MS: '1000', APPROVAL_SWEEP_MS: '200' } });
    const { runId, approvalId } = await pausedRun(h, tenantId);

    const record = await ended(h, tenantId, runId);
    expect(record).toMatchObject({ status: 'FAILED', error: { code: 'approval_timeout' } });
    expect(record.error?.message).toContain('current_time');
    expect((await logOf(redis, prefix, runId)).at(-1)).toMatchObject({ type: 'run.failed', code: 'approval_timeout' });
    expect(await refusal(h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId }))).toMatchObject({ code: 'conflict' });
  });

  test('a run whose agent lost the gate while it waited still resumes from its checkpoint (the model is not asked again)', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { runId, approvalId } = await pausedRun(h, tenantId);
    await h.caller.call('agent.update_agent', { agentId: 'default', requiresApproval: [] }, { tenantId, roles: ['admin'] });
    const requestsBefore = h.model.control.requests().length;

    await h.caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId });
    const record = await ended(h, tenantId, runId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.steps?.map((s) => `${s.kind}:${s.name}`)).toEqual(['log:approval_requested', 'tool_call:current_time', 'tool_result:current_time']);
    // One model call after the decision (the answer); the call that asked for the tool is not repeated.
    expect(h.model.control.requests().length - requestsBefore).toBe(1);
  });

  test('cancelling a paused run ends it CANCELLED', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { runId } = await pausedRun(h, tenantId);
    expect(await h.caller.call('agent.cancel', { runId }, { tenantId })).toEqual({ runId, cancelled: true });
    expect(await ended(h, tenantId, runId)).toMatchObject({ status: 'CANCELLED' });
  });
});
