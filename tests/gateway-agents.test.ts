/**
 * Agents as a resource over REST (create, read, update as versions, rollback, archive/restore, make default, tools)
 * and the channel bindings, each answered by the bound agent's own prompt (the dev model's `[[system]]` answers with
 * the system prompt it was sent): the web chat (`?agent=` and the default agent), a Chatwoot inbox, a REST run's
 * `agentId`. Every refusal (unknown, another tenant's or archived agent; invalid tool or flow; archiving the default)
 * is a clear error, never a fallback to another agent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WsClose } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';
import { ask, wsProbe } from './support/ws-probe.js';

const INBOX_TOKEN = 'agents-inbox-token-0123456789abcdef';
const API_TOKEN = 'agents-api-token-0123456789';

let prefix: string;
let db: string;
let services: Services;
let fake: FakeChatwoot;
let gw: RunningGateway;

beforeAll(async () => {
  prefix = uniquePrefix('gwagents');
  db = await createTestDatabase();
  fake = await startFakeChatwoot(API_TOKEN);
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db), OUTBOUND_ALLOW_HOSTS: '127.0.0.1', CHATWOOT_BACKOFF_MS: '20' });
}, 90_000);

afterAll(async () => {
  await gw?.close();
  await services?.stop();
  await fake?.close();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  if (db) await dropTestDatabase(db);
});

const TENANT = 't-agents';
const admin = token({ sub: 'boss', tenant: TENANT, roles: ['admin'] });
const operator = token({ sub: 'op', tenant: TENANT, roles: ['operator'] });
const user = token({ sub: 'ana', tenant: TENANT });
const foreignAdmin = token({ sub: 'boss', tenant: 't-agents-other', roles: ['admin'] });

async function api(method: string, path: string, body?: unknown, bearer = admin): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${gw.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const spec = (systemPrompt: string, over: Record<string, unknown> = {}) => ({
  name: systemPrompt.slice(0, 20),
  systemPrompt,
  greeting: '',
  model: 'parley-dev',
  temperature: 0.2,
  tools: ['current_time'],
  flow: 'chat',
  doubleTexting: 'enqueue',
  maxRunMs: 30_000,
  ...over,
});

/** Starts a REST run and waits for its answer text. */
async function restRun(body: Record<string, unknown>, bearer = user): Promise<string> {
  const started = await api('POST', '/api/v1/runs', body, bearer);
  expect(started.status, JSON.stringify(started.json)).toBe(202);
  const runId = String(started.json['runId']);
  const done = await waitFor(
    async () => {
      const r = await api('GET', `/api/v1/runs/${runId}`, undefined, bearer);
      return r.json['status'] === 'SUCCEEDED' || r.json['status'] === 'FAILED' ? r.json : null;
    },
    { timeoutMs: 30_000, what: `run ${runId}` },
  );
  expect(done['status']).toBe('SUCCEEDED');
  return String((done['output'] as { text?: string } | null)?.text ?? JSON.stringify(done['output']));
}

/** Opens a chat socket (`?agent=` when given), says `[[system]]`, and returns the welcome's agent and the answer. */
async function webChat(agent?: string): Promise<{ agent: unknown; text: string }> {
  const p = wsProbe(`${gw.ws}?token=${user}${agent ? `&agent=${agent}` : ''}`);
  try {
    const welcome = await p.welcome;
    await p.next((f) => f.type === 'history');
    const answer = await ask(p, { type: 'chat.message', id: `m-${Date.now()}-${Math.random()}`, text: 'who are you [[system]]' }, (f) =>
      ['agent.message', 'agent.error', 'error'].includes(f.type),
    );
    expect(answer.type, JSON.stringify(answer)).toBe('agent.message');
    return { agent: welcome['agent'], text: String(answer['text']) };
  } finally {
    p.close();
  }
}

describe('agents over REST', () => {
  test('create, get, update as a new version, versions, rollback, tools; staff read, admins change', async () => {
    const created = await api('POST', '/api/v1/agents', { agentId: 'crud', ...spec('You are CRUD v1.') });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ agentId: 'crud', version: 1, archived: false, isDefault: false });
    expect((await api('POST', '/api/v1/agents', { agentId: 'crud', ...spec('again') })).status).toBe(409);

    const updated = await api('PUT', '/api/v1/agents/crud', { systemPrompt: 'You are CRUD v2.', temperature: 0.9 });
    expect(updated.json).toMatchObject({ version: 2, systemPrompt: 'You are CRUD v2.', temperature: 0.9, tools: ['current_time'] });
    expect((await api('GET', '/api/v1/agents/crud', undefined, operator)).json).toMatchObject({ version: 2 });
    expect((await api('PUT', '/api/v1/agents/crud', { temperature: 0.1 }, operator)).status).toBe(403);

    // A run records the version it ran with, and that version's spec is read back.
    const text = await restRun({ agentId: 'crud', input: { text: 'hi [[system]]' } });
    expect(text).toBe('System prompt: "You are CRUD v2."');

    const rolled = await api('POST', '/api/v1/agents/crud/rollback', { version: 1 });
    expect(rolled.json).toMatchObject({ version: 3, systemPrompt: 'You are CRUD v1.', temperature: 0.2 });
    const versions = await api('GET', '/api/v1/agents/crud/versions', undefined, operator);
    expect(
      (versions.json['versions'] as Array<{ version: number; createdBy: string; spec: { systemPrompt: string } }>).map((v) => [
        v.version,
        v.spec.systemPrompt,
        v.createdBy,
      ]),
    ).toEqual([
      [3, 'You are CRUD v1.', 'boss'],
      [2, 'You are CRUD v2.', 'boss'],
      [1, 'You are CRUD v1.', 'boss'],
    ]);
    expect(await restRun({ agentId: 'crud', input: { text: 'hi [[system]]' } })).toBe('System prompt: "You are CRUD v1."');
    const runs = await api('GET', '/api/v1/runs?limit=5', undefined, operator);
    expect((runs.json['items'] as Array<{ agentId: string; agentVersion: number }>).filter((r) => r.agentId === 'crud').map((r) => r.agentVersion)).toEqual([
      3, 2,
    ]);

    const tools = await api('GET', '/api/v1/tools', undefined, operator);
    expect(tools.json['tools']).toContainEqual({
      name: 'close_conversation',
      description: expect.any(String),
      source: 'builtin',
      roles: ['operator', 'admin'],
    });
    const list = await api('GET', '/api/v1/agents', undefined, operator);
    expect((list.json['agents'] as Array<{ agentId: string }>).map((a) => a.agentId)).toEqual(expect.arrayContaining(['default', 'crud']));
  });

  test('refusals: invalid tool, flow or id; unknown or foreign agent and version; the default agent cannot be archived', async () => {
    const badTool = await api('POST', '/api/v1/agents', { agentId: 'bad', ...spec('x', { tools: ['rm_rf'] }) });
    expect(badTool).toMatchObject({ status: 400, json: { error: { code: 'invalid_payload', message: expect.stringContaining('unknown tools: rm_rf') } } });
    const badFlow = await api('PUT', '/api/v1/agents/default', { flow: 'nope' });
    expect(badFlow).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('flow "nope" is not registered') } } });
    expect((await api('POST', '/api/v1/agents', { agentId: 'has space', ...spec('x') })).status).toBe(400);
    expect((await api('GET', '/api/v1/agents/bad')).status).toBe(404);

    await api('POST', '/api/v1/agents', { agentId: 'mine', ...spec('Mine.') });
    for (const [method, path, body] of [
      ['GET', '/api/v1/agents/mine', undefined],
      ['PUT', '/api/v1/agents/mine', { temperature: 1 }],
      ['GET', '/api/v1/agents/mine/versions', undefined],
      ['POST', '/api/v1/agents/mine/rollback', { version: 1 }],
      ['POST', '/api/v1/agents/mine/archive', {}],
      ['POST', '/api/v1/agents/mine/make-default', {}],
    ] as const) {
      const r = await api(method, path, body, foreignAdmin);
      expect([path, r.status, (r.json['error'] as { code?: string } | undefined)?.code]).toEqual([path, 404, 'not_found']);
    }
    expect((await api('POST', '/api/v1/agents/mine/rollback', { version: 7 })).json).toMatchObject({
      error: { code: 'not_found', message: expect.stringContaining('no version 7') },
    });
    const archiveDefault = await api('POST', '/api/v1/agents/default/archive', {});
    expect(archiveDefault).toMatchObject({ status: 409, json: { error: { code: 'conflict', message: expect.stringContaining('default agent') } } });
  });
});

describe('channel bindings: each answered by its own agent', () => {
  test('web chat: ?agent= talks to that agent, no ?agent= to the default one; make-default moves the web chat', async () => {
    await api('POST', '/api/v1/agents', { agentId: 'sales', ...spec('You sell boats.') });
    expect(await webChat('sales')).toEqual({ agent: { id: 'sales', name: 'You sell boats.' }, text: 'System prompt: "You sell boats."' });
    const before = await webChat();
    expect(before.agent).toMatchObject({ id: 'default' });
    expect(before.text).toContain('You are a helpful assistant');

    expect((await api('POST', '/api/v1/agents/sales/make-default', {})).json).toMatchObject({ isDefault: true });
    expect(await webChat()).toMatchObject({ agent: { id: 'sales' }, text: 'System prompt: "You sell boats."' });
    expect((await api('POST', '/api/v1/agents/default/make-default', {})).json).toMatchObject({ isDefault: true });
  });

  test('REST runs: agentId picks the agent; unknown or archived is refused before the 202', async () => {
    await api('POST', '/api/v1/agents', { agentId: 'rest-bot', ...spec('You answer the API.') });
    expect(await restRun({ agentId: 'rest-bot', input: { text: 'hi [[system]]' } })).toBe('System prompt: "You answer the API."');
    const unknown = await api('POST', '/api/v1/runs', { agentId: 'ghost', input: { text: 'hi' } }, user);
    expect(unknown).toMatchObject({ status: 404, json: { error: { code: 'not_found', message: 'agent "ghost" does not exist for this tenant' } } });
    // Another tenant's agent is unknown here.
    const foreign = await api('POST', '/api/v1/runs', { agentId: 'rest-bot', input: { text: 'hi' } }, token({ sub: 'x', tenant: 't-agents-other' }));
    expect(foreign).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    await api('POST', '/api/v1/agents/rest-bot/archive', {});
    const archived = await api('POST', '/api/v1/runs', { agentId: 'rest-bot', input: { text: 'hi' } }, user);
    expect(archived).toMatchObject({ status: 409, json: { error: { code: 'conflict', message: expect.stringContaining('archived') } } });
    await api('POST', '/api/v1/agents/rest-bot/restore', {});
    expect(await restRun({ agentId: 'rest-bot', input: { text: 'hi again [[system]]' } })).toBe('System prompt: "You answer the API."');
  });

  test('web chat refusals: unknown, foreign or archived ?agent= closes 4404 with an error frame; conversation.new to an unknown agent is refused', async () => {
    await api('POST', '/api/v1/agents', { agentId: 'shelved', ...spec('Shelved.') });
    await api('POST', '/api/v1/agents/shelved/archive', {});
    for (const [agent, code, reason] of [
      ['ghost', 'not_found', 'no such agent'],
      ['shelved', 'conflict', 'agent archived'],
    ] as const) {
      const p = wsProbe(`${gw.ws}?token=${user}&agent=${agent}`);
      const closed = await p.closed;
      expect(closed).toEqual({ code: WsClose.noSuchAgent, reason });
      expect(p.frames).toEqual([expect.objectContaining({ type: 'error', code })]);
      expect(p.frames.some((f) => f.type === 'welcome')).toBe(false);
    }
    // `sales` exists in t-agents only.
    const foreign = wsProbe(`${gw.ws}?token=${token({ sub: 'x', tenant: 't-agents-other' })}&agent=sales`);
    expect((await foreign.closed).code).toBe(WsClose.noSuchAgent);

    const p = wsProbe(`${gw.ws}?token=${user}`);
    try {
      await p.welcome;
      await p.next((f) => f.type === 'history');
      const refused = await ask(p, { type: 'conversation.new', agent: 'ghost' }, (f) => f.type === 'error' || f.type === 'history');
      expect(refused).toMatchObject({ type: 'error', code: 'not_found', ref: 'conversation.new', message: 'agent "ghost" does not exist for this tenant' });
    } finally {
      p.close();
    }
  });

  test('a Chatwoot inbox answers with its agent; an inbox cannot be bound to an unknown or archived agent', async () => {
    await api('POST', '/api/v1/agents', { agentId: 'support', ...spec('You support WhatsApp users.') });
    const inbox = { accountId: 61, inboxId: 62, baseUrl: fake.url, apiToken: API_TOKEN, inboxToken: INBOX_TOKEN };
    for (const [agentId, message] of [
      ['ghost', 'chatwoot inbox 61/62: agent "ghost" does not exist for this tenant'],
      ['shelved', 'chatwoot inbox 61/62: agent "shelved" is archived; an operator can restore it'],
    ] as const) {
      const r = await api('PUT', '/api/v1/channels/chatwoot/inboxes', { ...inbox, agentId });
      expect(r).toMatchObject({ status: 400, json: { error: { code: 'invalid_payload', message } } });
    }
    expect((await api('GET', '/api/v1/channels/chatwoot/inboxes')).json).toEqual({ inboxes: [] });
    expect((await api('PUT', '/api/v1/channels/chatwoot/inboxes', { ...inbox, agentId: 'support' })).status).toBe(200);

    const w = { account: 61, inbox: 62, conversation: 4242 };
    const res = await deliver(gw.http, bodies.incoming(w, 'hello [[system]]'), { query: `?token=${INBOX_TOKEN}` });
    expect(res).toMatchObject({ status: 200, json: { outcome: 'started' } });
    const posted = await waitFor(() => fake.posted(w.conversation)[0] ?? null, { timeoutMs: 30_000, what: 'the inbox answer' });
    expect(posted).toBe('System prompt: "You support WhatsApp users."');
  });
});
