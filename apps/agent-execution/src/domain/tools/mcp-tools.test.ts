import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test, waitFor, type TestDatabase } from '@parley/testing';
import { SECRET_MASK, type ActionError, type RunEvent, type UpdateAgent } from '@parley/contracts';
import { startHarness, tokensOf } from '../../testing/harness.js';
import { closedPortUrl, startHangingServer, startHttpToolServer, startMcpTestServer } from '../../testing/tool-servers.js';

const KEY = randomBytes(32).toString('base64');
const VARS = { SECRETS_KEY: KEY, OUTBOUND_ALLOW_HOSTS: '127.0.0.1' };
const SECRET = 'sk-live-0123456789abcdef';

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
const steps = (events: readonly RunEvent[]) => events.flatMap((e) => (e.type === 'run.step' ? [e] : []));
const kinds = (events: readonly RunEvent[]) => steps(events).map((e) => `${e.kind}:${e.name}`);
const resultOf = (events: readonly RunEvent[], name: string) =>
  steps(events).find((e) => e.kind === 'tool_result' && e.name === name)?.data as
    { ok: boolean; result: { error?: string; text?: string } & Record<string, unknown> } | undefined;

async function setup(prefix: string, db: TestDatabase, vars: Record<string, string> = {}) {
  const tenantId = tenant();
  const h = await startHarness({ prefix, db, tenantId, vars: { ...VARS, ...vars } });
  // No built-ins: the dev model then calls only the tool a test names.
  const update = (patch: Omit<UpdateAgent, 'agentId'>, meta = {}) =>
    h.caller.call('agent.update_agent', { agentId: 'default', tools: [], ...patch }, { tenantId, ...meta });
  const run = (text: string, roles?: string[]) => h.run({ runId: randomUUID(), input: { text }, channel: 'api' }, roles ? { roles } : {});
  return { h, tenantId, update, run };
}

async function refusal(p: Promise<unknown>): Promise<ActionError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as ActionError,
  );
  if (!err) throw new Error('expected a refusal');
  return err;
}

describe('MCP servers and HTTP tools', () => {
  test('an MCP tool call streams as steps and its result reaches the answer; its header is sealed at rest, sent to the server, masked on read', async ({
    prefix,
    db,
  }) => {
    const mcp = await startMcpTestServer();
    const { h, tenantId, update, run } = await setup(prefix, db);
    const saved = await update({ mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': SECRET }, tools: ['echo'] }] });
    expect(saved.mcpServers).toEqual([{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': SECRET_MASK }, tools: ['echo'] }]);

    const { result, events } = await run('[[tool:crm__echo]] hello');
    expect(result.status).toBe('SUCCEEDED');
    expect(kinds(events)).toEqual(['tool_call:crm__echo', 'tool_result:crm__echo']);
    expect(resultOf(events, 'crm__echo')).toMatchObject({ ok: true, result: { text: expect.stringContaining('echo: ') } });
    expect(tokensOf(events)).toBe(result.text);
    expect(result.text).toContain('crm__echo returned');
    expect(result.text).toContain('echo: ');
    expect(mcp.calls).toHaveLength(1);
    // Every request (initialize, list, call) carried the secret; none of the server's other tools was offered.
    expect(mcp.seen.length).toBeGreaterThan(0);
    expect(mcp.seen.every((headers) => headers['x-api-key'] === SECRET)).toBe(true);

    // At rest: sealed in both the agent row and its versions, never the plain value.
    const rows = await db.pool.query<{ spec: string }>(
      `select spec::text as spec from agents where tenant_id = $1 union all select spec::text from agent_versions where tenant_id = $1`,
      [tenantId],
    );
    const stored = rows.rows.map((r) => r.spec).join('\n');
    expect(stored).not.toContain(SECRET);
    expect(stored).toMatch(/"X-Api-Key": ?"enc:v1:[0-9a-f]{8}:/);

    // Read back masked; an update that sends the mask back keeps the stored secret.
    const listed = await h.caller.call('agent.list_agents', {}, { tenantId });
    expect(JSON.stringify(listed)).not.toContain('enc:v1');
    expect(listed.agents[0]?.mcpServers?.[0]?.headers).toEqual({ 'X-Api-Key': SECRET_MASK });
    await update({ mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': SECRET_MASK } }] });
    mcp.seen.length = 0;
    expect((await run('[[tool:crm__echo]] again')).result.status).toBe('SUCCEEDED');
    expect(mcp.seen.length).toBeGreaterThan(0);
    expect(mcp.seen.every((headers) => headers['x-api-key'] === SECRET)).toBe(true);
  });

  test('failing, throwing and oversized MCP tools give the model a tool error or a cut result; the run completes', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    const { update, run } = await setup(prefix, db);
    await update({ mcpServers: [{ id: 'w', url: mcp.url }] });

    for (const [tool, error] of [
      ['fail', 'the widget is broken'],
      ['explode', 'kaboom'],
    ] as const) {
      const { result, events } = await run(`[[tool:w__${tool}]] go`);
      expect(result.status).toBe('SUCCEEDED');
      expect(resultOf(events, `w__${tool}`)).toMatchObject({ ok: false, result: { error: expect.stringContaining(error) } });
      expect(result.text).toContain(error);
    }
    const big = await run('[[tool:w__big]] go');
    expect(big.result.status).toBe('SUCCEEDED');
    const text = resultOf(big.events, 'w__big')?.result.text ?? '';
    expect(text.length).toBeLessThan(17_000);
    expect(text).toMatch(/\[truncated: 84000 more characters\]$/);
  });

  test('a hanging MCP server: a call times out as a tool error within its timeout, and a list that hangs leaves the run without its tools', async ({
    prefix,
    db,
  }) => {
    const mcp = await startMcpTestServer();
    const { update, run } = await setup(prefix, db);
    await update({ mcpServers: [{ id: 'crm', url: mcp.url, timeoutMs: 400 }] });
    mcp.hang = true;
    let started = Date.now();
    // The tool list is cached from the save, so the model is offered the tool and its call hangs.
    const call = await run('[[tool:crm__echo]] hello');
    expect(call.result.status).toBe('SUCCEEDED');
    expect(resultOf(call.events, 'crm__echo')).toMatchObject({ ok: false, result: { error: expect.stringContaining('did not answer within 400 ms') } });
    expect(call.result.text).toContain('did not answer');
    expect(Date.now() - started).toBeLessThan(3_000);

    // Listed afresh on every run (no cache): the hanging list costs its timeout, then the run answers without the tool.
    const { update: update2, run: run2 } = await setup(`${prefix}:b`, db, { MCP_LIST_CACHE_MS: '0' });
    mcp.hang = false;
    await update2({ mcpServers: [{ id: 'crm', url: mcp.url, timeoutMs: 400 }] });
    mcp.hang = true;
    started = Date.now();
    const listed = await run2('[[tool:crm__echo]] hello');
    expect(listed.result.status).toBe('SUCCEEDED');
    expect(steps(listed.events).find((s) => s.name === 'mcp_server_unavailable')).toMatchObject({ kind: 'log', data: { server: 'crm' } });
    expect(kinds(listed.events)).not.toContain('tool_call:crm__echo');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test('cancelling the run aborts an MCP call in flight', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    const { h, tenantId, update } = await setup(prefix, db);
    await update({ mcpServers: [{ id: 'crm', url: mcp.url, tools: ['slow'], timeoutMs: 60_000 }] });
    const runId = randomUUID();
    const started = Date.now();
    const running = h.start({ runId, input: { text: '[[tool:crm__slow]] wait' }, channel: 'api' });
    await waitFor(() => mcp.calls.length === 1, { what: 'the tool call at the server' });
    expect(await h.caller.call('agent.cancel', { runId }, { tenantId })).toMatchObject({ cancelled: true });
    const { result } = await running.done;
    expect(result.status).toBe('CANCELLED');
    // The tool would have answered after 30 s and its timeout is 60 s: the cancel ended the call.
    expect(kinds(running.events)).toEqual(['tool_call:crm__slow']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('HTTP tools: POST sends the arguments as JSON, GET as the query, with the sealed header; a 5xx is a tool error', async ({ prefix, db }) => {
    const api = await startHttpToolServer();
    const { update, run } = await setup(prefix, db);
    const inputSchema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
    const saved = await update({
      httpTools: [
        {
          name: 'lookup_order',
          description: 'Looks up an order',
          url: `${api.url}/echo`,
          method: 'POST',
          headers: { Authorization: `Bearer ${SECRET}` },
          inputSchema,
        },
        { name: 'stock', description: 'Stock level', url: `${api.url}/echo?src=parley`, method: 'GET', inputSchema },
        { name: 'broken', description: 'Broken endpoint', url: `${api.url}/fail`, method: 'POST', inputSchema },
      ],
    });
    expect(saved.httpTools?.[0]?.headers).toEqual({ Authorization: SECRET_MASK });

    const post = await run('[[tool:lookup_order]] order 42');
    expect(post.result.status).toBe('SUCCEEDED');
    expect(resultOf(post.events, 'lookup_order')).toMatchObject({ ok: true, result: { received: { text: expect.stringContaining('order 42') } } });
    expect(api.seen[0]?.authorization).toBe(`Bearer ${SECRET}`);
    expect(api.seen[0]?.['content-type']).toBe('application/json');

    const get = await run('[[tool:stock]] blue shoes');
    expect(resultOf(get.events, 'stock')).toMatchObject({ ok: true, result: { received: { src: 'parley', text: expect.stringContaining('blue shoes') } } });
    expect(api.seen[1]?.authorization).toBeUndefined();

    const broken = await run('[[tool:broken]] now');
    expect(broken.result.status).toBe('SUCCEEDED');
    expect(resultOf(broken.events, 'broken')).toMatchObject({ ok: false, result: { error: expect.stringContaining('HTTP 500: database on fire') } });
  });

  test('role gating: a server limited to operators is offered to them only', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    const { update, run } = await setup(prefix, db);
    await update({ mcpServers: [{ id: 'crm', url: mcp.url, roles: ['operator'] }] });
    const customer = await run('[[tool:crm__echo]] hi', ['customer']);
    expect(customer.result.status).toBe('SUCCEEDED');
    expect(kinds(customer.events)).toEqual([]);
    const operator = await run('[[tool:crm__echo]] hi', ['operator']);
    expect(kinds(operator.events)).toEqual(['tool_call:crm__echo', 'tool_result:crm__echo']);
  });

  test('every refusal at save time is invalid_payload naming the field, the server and the rule', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    const { update, h, tenantId } = await setup(prefix, db);
    const fields = async (patch: Omit<UpdateAgent, 'agentId'>) => {
      const err = await refusal(update(patch));
      return { code: err.code, message: err.message, fields: (err.details as { fields?: string[] } | undefined)?.fields };
    };
    const schema = { type: 'object', properties: {} };

    // Invalid config: caught by the contract (header name with CR/LF, bad id, bad URL scheme, bounds).
    for (const bad of [
      { mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Bad\r\nInjected': 'v' } }] },
      { mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Ok': 'line\r\nInjected: 1' } }] },
      { mcpServers: [{ id: 'Bad Id', url: mcp.url }] },
      { mcpServers: [{ id: 'a', url: 'ftp://127.0.0.1/x' }] },
      { mcpServers: [{ id: 'a', url: mcp.url, timeoutMs: 10 }] },
      {
        mcpServers: [
          { id: 'a', url: mcp.url },
          { id: 'a', url: mcp.url },
        ],
      },
      { httpTools: [{ name: 'x__y', description: 'd', url: mcp.url, method: 'POST', inputSchema: schema }] },
    ] as Array<Omit<UpdateAgent, 'agentId'>>) {
      expect((await refusal(update(bad))).code).toBe('invalid_payload');
    }
    expect(await fields({ httpTools: [{ name: 'current_time', description: 'd', url: mcp.url, method: 'GET', inputSchema: schema }] })).toMatchObject({
      code: 'invalid_payload',
      fields: ['httpTools.0.name'],
    });
    expect(
      await fields({ httpTools: [{ name: 'x', description: 'd', url: mcp.url, method: 'GET', inputSchema: { type: 'object', properties: 5 } }] }),
    ).toMatchObject({
      fields: ['httpTools.0.inputSchema'],
      message: expect.stringContaining('not a valid JSON schema'),
    });

    // The outbound guard: a name resolving to loopback (only 127.0.0.1 is allow-listed here), the metadata address.
    expect(await fields({ mcpServers: [{ id: 'local', url: 'http://localhost:1/mcp' }] })).toMatchObject({
      fields: ['mcpServers.0.url'],
      message: expect.stringMatching(/MCP server "local": url resolves to a loopback address; .*OUTBOUND_ALLOW_HOSTS/),
    });
    expect(
      await fields({ httpTools: [{ name: 'meta', description: 'd', url: 'http://169.254.169.254/latest', method: 'GET', inputSchema: schema }] }),
    ).toMatchObject({
      fields: ['httpTools.0.url'],
      message: expect.stringContaining('linkLocal'),
    });

    // Unreachable: a closed port, and a server that accepts and never answers (within its timeout).
    expect(await fields({ mcpServers: [{ id: 'gone', url: await closedPortUrl() }] })).toMatchObject({
      fields: ['mcpServers.0.url'],
      message: expect.stringMatching(/^MCP server "gone" at http:\/\/127\.0\.0\.1:\d+ cannot be reached or listed: .*ECONNREFUSED/),
    });
    const started = Date.now();
    expect(await fields({ mcpServers: [{ id: 'stuck', url: await startHangingServer(), timeoutMs: 300 }] })).toMatchObject({
      message: expect.stringContaining('MCP server "stuck"'),
    });
    expect(Date.now() - started).toBeLessThan(2_000);

    // A tool the server does not list.
    expect(await fields({ mcpServers: [{ id: 'crm', url: mcp.url, tools: ['echo', 'delete_everything'] }] })).toMatchObject({
      fields: ['mcpServers.0.tools'],
      message: 'MCP server "crm" does not list "delete_everything"; it lists: echo, fail, explode, big, slow',
    });

    // A mask with nothing stored behind it, and an encrypted value that is not this agent's.
    expect(await fields({ mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': SECRET_MASK } }] })).toMatchObject({
      fields: ['mcpServers.0.headers.X-Api-Key'],
    });
    expect(await fields({ mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': 'enc:v1:abcdef12:AAAA' } }] })).toMatchObject({
      fields: ['mcpServers.0.headers.X-Api-Key'],
    });
    // Nothing was saved by any of them.
    const current = await h.caller.call('agent.list_agents', {}, { tenantId });
    expect(current.agents[0]).toMatchObject({ version: 1, mcpServers: [], httpTools: [] });
  });

  test('without SECRETS_KEY, headers are refused with the reason; servers without headers still work', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    const { update, run } = await setup(prefix, db, { SECRETS_KEY: '' });
    const err = await refusal(update({ mcpServers: [{ id: 'crm', url: mcp.url, headers: { 'X-Api-Key': SECRET } }] }));
    expect(err).toMatchObject({ code: 'invalid_payload', message: expect.stringContaining('SECRETS_KEY is not set on agent-execution') });
    await update({ mcpServers: [{ id: 'crm', url: mcp.url }] });
    expect(kinds((await run('[[tool:crm__echo]] hi')).events)).toEqual(['tool_call:crm__echo', 'tool_result:crm__echo']);
  });

  test('calls go through the outbound guard at run time too: a stored server on a refused address is never reached', async ({ prefix, db }) => {
    const mcp = await startMcpTestServer();
    // 127.0.0.1 is not allow-listed here; the spec is written as an older or hand-edited row would be, bypassing the save checks.
    const { h, tenantId, run } = await setup(prefix, db, { OUTBOUND_ALLOW_HOSTS: '' });
    await h.caller.call('agent.list_agents', {}, { tenantId });
    await db.pool.query(`update agents set spec = spec || $2::jsonb where tenant_id = $1`, [
      tenantId,
      JSON.stringify({ tools: [], mcpServers: [{ id: 'crm', url: mcp.url }] }),
    ]);
    const { result, events } = await run('[[tool:crm__echo]] hi');
    expect(result.status).toBe('SUCCEEDED');
    expect(steps(events).find((s) => s.name === 'mcp_server_unavailable')).toMatchObject({
      data: { server: 'crm', error: expect.stringContaining('loopback') },
    });
    expect(mcp.seen).toEqual([]);
  });
});
