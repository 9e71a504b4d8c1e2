import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test } from '@parley/testing';
import { SECRET_MASK, type AgentSpec } from '@parley/contracts';
import { startHarness, tokensOf } from '../../testing/harness.js';
import { startHttpToolServer } from '../../testing/tool-servers.js';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
const spec = (over: Partial<AgentSpec> = {}): AgentSpec => ({
  name: 'Sales',
  systemPrompt: 'You sell boats.',
  greeting: 'Ahoy!',
  model: 'parley-dev',
  temperature: 0.2,
  tools: ['current_time'],
  flow: 'chat',
  doubleTexting: 'enqueue',
  maxRunMs: 30_000,
  ...over,
});

describe('agents as a resource (agent-execution)', () => {
  test('create, update, versions, rollback; runs record and announce the version they ran with', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const meta = { tenantId, userId: 'alice' };

    const created = await h.caller.call('agent.create_agent', { agentId: 'sales', ...spec() }, meta);
    expect(created).toMatchObject({ agentId: 'sales', version: 1, isDefault: false, archived: false, systemPrompt: 'You sell boats.' });
    await expect(h.caller.call('agent.create_agent', { agentId: 'sales', ...spec() }, meta)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already exists'),
    });

    const v2 = await h.caller.call('agent.update_agent', { agentId: 'sales', systemPrompt: 'You sell sails.' }, meta);
    expect(v2).toMatchObject({ version: 2, systemPrompt: 'You sell sails.', greeting: 'Ahoy!' });

    const first = await h.run({ runId: randomUUID(), agentId: 'sales', input: { text: 'hi [[system]]' }, channel: 'api' }, meta);
    expect(first.result.text).toBe('System prompt: "You sell sails."');
    expect(first.events[0]).toMatchObject({ type: 'run.started', agentId: 'sales', agentVersion: 2 });
    const record = await h.caller.call('agent.get_run', { runId: first.result.runId }, meta);
    expect(record.agentVersion).toBe(2);

    const rolled = await h.caller.call('agent.rollback_agent', { agentId: 'sales', version: 1 }, { tenantId, userId: 'bob' });
    expect(rolled).toMatchObject({ version: 3, systemPrompt: 'You sell boats.' });
    const { versions } = await h.caller.call('agent.list_agent_versions', { agentId: 'sales' }, meta);
    expect(versions.map((v) => [v.version, v.spec.systemPrompt, v.createdBy])).toEqual([
      [3, 'You sell boats.', 'bob'],
      [2, 'You sell sails.', 'alice'],
      [1, 'You sell boats.', 'alice'],
    ]);
    // The spec a run ran with is read back by its recorded version.
    expect(versions.find((v) => v.version === record.agentVersion)?.spec.systemPrompt).toBe('You sell sails.');

    const second = await h.run({ runId: randomUUID(), agentId: 'sales', input: { text: 'hi [[system]]' }, channel: 'api' }, meta);
    expect(tokensOf(second.events)).toBe('System prompt: "You sell boats."');

    const got = await h.caller.call('agent.get_agent', { agentId: 'sales' }, meta);
    expect(got.version).toBe(3);
    const { tools } = await h.caller.call('agent.list_tools', {}, meta);
    expect(tools).toContainEqual({ name: 'close_conversation', description: expect.any(String), source: 'builtin', roles: ['operator', 'admin'] });
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['current_time', 'search_knowledge', 'handoff_to_human']));
  });

  test('refusals: invalid tool or flow, bad id, unknown or foreign agent, unknown version, default archive; an archived agent starts no runs', async ({
    prefix,
    db,
  }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId });
    const meta = { tenantId, userId: 'alice' };

    await expect(h.caller.call('agent.create_agent', { agentId: 'x', ...spec({ tools: ['rm_rf'] }) }, meta)).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('unknown tools: rm_rf'),
    });
    await expect(h.caller.call('agent.create_agent', { agentId: 'x', ...spec({ flow: 'nope' }) }, meta)).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('flow "nope" is not registered'),
    });
    await expect(h.caller.call('agent.create_agent', { agentId: 'a:b', ...spec() }, meta)).rejects.toMatchObject({ code: 'invalid_payload' });

    await h.caller.call('agent.create_agent', { agentId: 'sales', ...spec() }, meta);
    const foreign = { tenantId: tenant(), userId: 'mallory' };
    for (const call of [
      () => h.caller.call('agent.get_agent', { agentId: 'sales' }, foreign),
      () => h.caller.call('agent.update_agent', { agentId: 'sales', name: 'x' }, foreign),
      () => h.caller.call('agent.list_agent_versions', { agentId: 'sales' }, foreign),
      () => h.caller.call('agent.rollback_agent', { agentId: 'sales', version: 1 }, foreign),
      () => h.caller.call('agent.archive_agent', { agentId: 'sales', archived: true }, foreign),
      () => h.caller.call('agent.get_agent', { agentId: 'ghost' }, meta),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'not_found' });
    }
    await expect(h.caller.call('agent.rollback_agent', { agentId: 'sales', version: 9 }, meta)).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('has no version 9'),
    });
    await expect(h.caller.call('agent.archive_agent', { agentId: 'default', archived: true }, meta)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('default agent'),
    });

    const archived = await h.caller.call('agent.archive_agent', { agentId: 'sales', archived: true }, meta);
    expect(archived.archived).toBe(true);
    await expect(h.run({ runId: randomUUID(), agentId: 'sales', input: { text: 'hi' }, channel: 'api' }, meta)).rejects.toMatchObject({
      code: 'conflict',
      message: 'agent "sales" is archived and starts no runs; restore it or use another agent',
    });
    await expect(h.caller.call('agent.set_default_agent', { agentId: 'sales' }, meta)).rejects.toMatchObject({ code: 'conflict' });

    const restored = await h.caller.call('agent.archive_agent', { agentId: 'sales', archived: false }, meta);
    expect(restored.archived).toBe(false);
    const made = await h.caller.call('agent.set_default_agent', { agentId: 'sales' }, meta);
    expect(made.isDefault).toBe(true);
    const run = await h.run({ runId: randomUUID(), input: { text: 'hi [[system]]' }, channel: 'api' }, meta);
    expect(run.result.text).toBe('System prompt: "You sell boats."');
    const { agents } = await h.caller.call('agent.list_agents', {}, meta);
    expect(agents.filter((a) => a.isDefault).map((a) => a.agentId)).toEqual(['sales']);
    // The old default can now be archived.
    expect((await h.caller.call('agent.archive_agent', { agentId: 'default', archived: true }, meta)).archived).toBe(true);
  });

  test('tool header values are sealed on create and masked in every agent and version reply; a rollback restores the real value', async ({ prefix, db }) => {
    const tenantId = tenant();
    const h = await startHarness({ prefix, db, tenantId, vars: { SECRETS_KEY: randomBytes(32).toString('base64'), OUTBOUND_ALLOW_HOSTS: '127.0.0.1' } });
    const meta = { tenantId, userId: 'alice' };
    const api = await startHttpToolServer();
    const SECRET = 'sk-live-agents-0123456789';
    const inputSchema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
    const tool = { name: 'lookup_order', description: 'Looks up an order', url: `${api.url}/echo`, method: 'POST' as const, inputSchema };
    const created = await h.caller.call(
      'agent.create_agent',
      { agentId: 'orders', ...spec({ tools: [] }), httpTools: [{ ...tool, headers: { Authorization: `Bearer ${SECRET}` } }] },
      meta,
    );
    expect(created.httpTools?.[0]?.headers).toEqual({ Authorization: SECRET_MASK });
    await h.caller.call('agent.update_agent', { agentId: 'orders', httpTools: [tool] }, meta);
    const rolled = await h.caller.call('agent.rollback_agent', { agentId: 'orders', version: 1 }, meta);
    const { versions } = await h.caller.call('agent.list_agent_versions', { agentId: 'orders' }, meta);
    const got = await h.caller.call('agent.get_agent', { agentId: 'orders' }, meta);
    const replies = JSON.stringify([created, rolled, versions, got]);
    expect(replies).not.toContain(SECRET);
    expect(versions.map((v) => v.spec.httpTools?.[0]?.headers)).toEqual([{ Authorization: SECRET_MASK }, undefined, { Authorization: SECRET_MASK }]);

    const run = await h.run({ runId: randomUUID(), agentId: 'orders', input: { text: '[[tool:lookup_order]] order 7' }, channel: 'api' }, meta);
    expect(run.result.status).toBe('SUCCEEDED');
    expect(api.seen[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });
});
