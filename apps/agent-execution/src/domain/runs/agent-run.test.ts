import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test } from '@parley/testing';
import { runEventLogKey, decodeRunLogEntry, type ActionError } from '@parley/contracts';
import { seqsOf, startHarness, tokensOf } from '../../testing/harness.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;

describe('agent.run', () => {
  test('a poem run streams numbered events whose tokens reassemble the final text, logs them, records usage', async ({ prefix, db, redis }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const runId = randomUUID();
    const { result, events } = await h.run({ runId, flow: 'poem', input: { topic: 'the sea' }, channel: 'api' });

    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(seqsOf(events)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe('run.started');
    const last = events[events.length - 1];
    expect(last?.type).toBe('run.completed');
    expect(tokensOf(events)).toBe(result.text);
    expect(result.text!.length).toBeGreaterThan(10);
    const progress = events.flatMap((e) => (e.type === 'run.step' && e.progress !== undefined ? [e.progress] : []));
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).toBe(100);

    // The event log holds exactly what was streamed, several events per entry, with a TTL.
    const log = await redis.xrange(runEventLogKey(prefix, runId), '-', '+');
    expect(log.flatMap(([, f]) => decodeRunLogEntry(f))).toEqual(events);
    expect(log.length).toBeLessThan(events.length);
    expect(await redis.pttl(runEventLogKey(prefix, runId))).toBeGreaterThan(0);

    const record = await h.caller.call('agent.get_run', { runId }, { tenantId });
    expect(record).toMatchObject({ runId, status: 'SUCCEEDED', flow: 'poem', agentId: 'default', error: null });
    expect(record.usage!.completionTokens).toBeGreaterThan(0);
    expect(record.usage!.totalTokens).toBe(record.usage!.promptTokens + record.usage!.completionTokens);
    expect(result.usage).toEqual(record.usage);
    expect(record.startedAt).not.toBeNull();
    expect(record.finishedAt).not.toBeNull();

    // The record keeps the steps as streamed (seq and all), the final text and the terminal event's seq:
    // what SSE replays once the log above expires.
    const streamedSteps = events.flatMap((e) => (e.type === 'run.step' ? [(({ type: _t, runId: _r, ...rest }) => rest)(e)] : []));
    expect(streamedSteps.length).toBeGreaterThan(1);
    expect(record.steps).toEqual(streamedSteps);
    expect(record.stepsOmitted).toBe(0);
    expect(record.text).toBe(result.text);
    expect(record.endSeq).toBe(last?.seq);
  });

  test('a chat run that calls a tool streams tool_call then tool_result then the answer', async ({ prefix, db }) => {
    const h = await startHarness({ prefix, db, tenantId: tenant() });
    const { result, events } = await h.run({ runId: randomUUID(), input: { text: 'What time is it?' }, channel: 'web' });
    expect(result.status).toBe('SUCCEEDED');
    const kinds = events.map((e) => (e.type === 'run.step' ? `${e.kind}:${e.name}` : e.type));
    const firstToken = kinds.indexOf('run.token');
    expect(kinds.slice(0, 3)).toEqual(['run.started', 'tool_call:current_time', 'tool_result:current_time']);
    expect(firstToken).toBe(3);
    expect(kinds[kinds.length - 1]).toBe('run.completed');
    expect(tokensOf(events)).toBe(result.text);
    expect(result.text).toContain('current_time returned');
    const toolResult = events.find((e) => e.type === 'run.step' && e.kind === 'tool_result');
    expect(toolResult).toMatchObject({ data: { ok: true } });
  });

  test('the research flow makes several tool calls in a row, each a live step with progress', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, vars: { TOOL_TIMEOUT_MS: '300' } });
    const { result, events } = await h.run({ runId: randomUUID(), flow: 'research', input: { question: 'What is the refund policy?' }, channel: 'api' });
    expect(result.status).toBe('SUCCEEDED');
    const steps = events.flatMap((e) => (e.type === 'run.step' && e.kind !== 'log' ? [`${e.kind}:${e.name}`] : []));
    expect(steps).toEqual(['tool_call:search_knowledge', 'tool_result:search_knowledge', 'tool_call:current_time', 'tool_result:current_time']);
    // No query service runs in this test: the search fails as a tool result, and the run carries on.
    expect(result.output).toMatchObject({
      tools: [
        { name: 'search_knowledge', ok: false },
        { name: 'current_time', ok: true },
      ],
    });
    expect(tokensOf(events)).toBe(result.text);
  });

  test('unknown flow, unknown agent and invalid input get clear error replies', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const fail = (data: Parameters<typeof h.run>[0]) =>
      h.run(data).then(
        () => null,
        (e: unknown) => e as ActionError,
      );

    const noFlow = await fail({ runId: randomUUID(), flow: 'nope', input: {}, channel: 'api' });
    expect(noFlow).toMatchObject({ code: 'not_found' });
    expect(noFlow!.message).toMatch(/flow "nope" is not registered; registered flows: chat, summarize_conversation, poem, research/);

    const noAgent = await fail({ runId: randomUUID(), agentId: 'ghost', input: { text: 'hi' }, channel: 'api' });
    expect(noAgent).toMatchObject({ code: 'not_found' });
    expect(noAgent!.message).toContain('agent "ghost" does not exist');

    const bad = await fail({ runId: randomUUID(), flow: 'poem', input: { lines: 'many' }, channel: 'api' });
    expect(bad).toMatchObject({ code: 'invalid_payload', details: { fields: ['topic', 'lines'] } });
    expect(bad!.message).toMatch(/invalid input for flow "poem": topic: .*; lines: /);

    const needsConversation = await fail({ runId: randomUUID(), flow: 'summarize_conversation', input: {}, channel: 'api' });
    expect(needsConversation).toMatchObject({ code: 'invalid_payload' });
    expect(needsConversation!.message).toContain('needs a conversationId');
  });

  test('lists flows with input JSON schemas, and agents with the default one created on first sight', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const { flows } = await h.caller.call('agent.list_flows', {}, { tenantId });
    expect(flows.map((f) => f.name)).toEqual(['chat', 'summarize_conversation', 'poem', 'research']);
    expect(flows.find((f) => f.name === 'poem')!.inputSchema).toMatchObject({ type: 'object', required: ['topic'] });
    const { agents } = await h.caller.call('agent.list_agents', {}, { tenantId });
    expect(agents).toEqual([expect.objectContaining({ agentId: 'default', isDefault: true, flow: 'chat', doubleTexting: 'enqueue' })]);
    const updated = await h.caller.call('agent.update_agent', { agentId: 'default', doubleTexting: 'reject', maxRunMs: 5_000 }, { tenantId });
    expect(updated).toMatchObject({ doubleTexting: 'reject', maxRunMs: 5_000 });
    await expect(h.caller.call('agent.update_agent', { agentId: 'default', tools: ['rm_rf'] }, { tenantId })).rejects.toMatchObject({
      code: 'invalid_payload',
    });
  });
});
