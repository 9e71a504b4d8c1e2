import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
let gw: RunningGateway;
let strict: RunningGateway;
const WEBHOOK_SECRET = 'webhook-secret-0123456789';

beforeAll(async () => {
  prefix = uniquePrefix('gwrest');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, { WEBHOOK_SECRET, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', OUTBOUND_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_BACKOFF_MS: '50' });
  // Its own bus: webhooks are posted by whichever replica takes `channel.webhook.deliver`, and this
  // one would (rightly) refuse the local receiver of the webhook test. It only answers 400s here.
  strict = await startGateway(`${prefix}:strict`, { WEBHOOK_SECRET, WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com,127.0.0.1' });
});

afterAll(async () => {
  await Promise.all([gw?.close(), strict?.close()]);
  await services?.stop();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

const auth = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const t1user = token({ sub: 'api-user', tenant: 't1' });
const t1admin = token({ sub: 'boss', tenant: 't1', roles: ['admin'] });
const t2admin = token({ sub: 'other-boss', tenant: 't2', roles: ['admin'] });

async function startRun(body: unknown, t = t1user, base = gw): Promise<Response> {
  return fetch(`${base.http}/api/v1/runs`, { method: 'POST', headers: auth(t), body: JSON.stringify(body) });
}

interface SseEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

async function readSse(url: string, headers: Record<string, string>): Promise<SseEvent[]> {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text(); // the server ends the stream after SUCCESS or FAILURE
  // Each event comes named and unnamed (rest/sse.ts): the named ones are what these tests follow.
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:') && block.includes('event: '))
    .map((block) => {
      const ev: SseEvent = { event: 'message', data: {} };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) ev.id = line.slice(4);
        if (line.startsWith('event: ')) ev.event = line.slice(7);
        if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
      }
      return ev;
    });
}

describe('gateway REST API', () => {
  test('POST /runs → 202, SSE streams PENDING → PROGRESS → SUCCESS, and Last-Event-ID resumes after it', async () => {
    const res = await startRun({ input: { text: 'rest run [[slow:10]] [[tokens:10]]' } });
    expect(res.status).toBe(202);
    const { runId, eventsUrl } = (await res.json()) as { runId: string; eventsUrl: string };
    const all = await readSse(`${gw.http}${eventsUrl}`, auth(t1user));
    expect(all[0]?.event).toBe('PENDING');
    expect(all.at(-1)?.event).toBe('SUCCESS');
    expect(all.at(-1)?.data).toMatchObject({ status: 'SUCCEEDED', progress: 100, final_result: { text: expect.any(String) } });
    const ids = all.flatMap((e) => (e.id ? [Number(e.id)] : []));
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));

    const resumed = await readSse(`${gw.http}${eventsUrl}`, { ...auth(t1user), 'last-event-id': '3' });
    expect(resumed.map((e) => Number(e.id))).toEqual(ids.filter((i) => i > 3));
    expect(resumed.at(-1)?.data.final_result).toEqual(all.at(-1)?.data.final_result);

    const run = await fetch(`${gw.http}/api/v1/runs/${runId}`, { headers: auth(t1user) });
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ runId, status: 'SUCCEEDED' });
  });

  test("another tenant's run and conversation answer 404, even for its admin", async () => {
    const conversationId = `conv-${Date.now()}`;
    const res = await startRun({ input: { text: 'secret [[tokens:3]]' }, conversationId });
    const { runId } = (await res.json()) as { runId: string };
    await waitFor(
      async () => ((await (await fetch(`${gw.http}/api/v1/runs/${runId}`, { headers: auth(t1user) })).json()) as { status: string }).status === 'SUCCEEDED',
    );
    for (const path of [`/api/v1/runs/${runId}`, `/api/v1/runs/${runId}/events`]) {
      const r = await fetch(`${gw.http}${path}`, { headers: auth(t2admin) });
      expect(r.status, path).toBe(404);
    }
    const cancel = await fetch(`${gw.http}/api/v1/runs/${runId}/cancel`, { method: 'POST', headers: auth(t2admin) });
    expect(cancel.status).toBe(404);
    const list = (await (await fetch(`${gw.http}/api/v1/conversations`, { headers: auth(t1admin) })).json()) as { items: Array<{ conversationId: string }> };
    expect(list.items.map((c) => c.conversationId)).toContain(conversationId);
    const other = (await (await fetch(`${gw.http}/api/v1/conversations`, { headers: auth(t2admin) })).json()) as { items: Array<{ conversationId: string }> };
    expect(other.items.map((c) => c.conversationId)).not.toContain(conversationId);
    expect((await fetch(`${gw.http}/api/v1/conversations/${conversationId}`, { headers: auth(t1admin) })).status).toBe(200);
    for (const path of [`/api/v1/conversations/${conversationId}`, `/api/v1/conversations/${conversationId}/messages`]) {
      expect((await fetch(`${gw.http}${path}`, { headers: auth(t2admin) })).status, path).toBe(404);
    }
  });

  test('the run webhook gets a signed POST with the result', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(received.length === 1 ? 503 : 204).end(); // the first delivery fails: retried
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    try {
      const res = await startRun({ input: { text: 'hook me [[tokens:4]]' }, webhook: `http://127.0.0.1:${port}/done` });
      expect(res.status).toBe(202);
      const { runId } = (await res.json()) as { runId: string };
      await waitFor(() => received.length >= 2, { timeoutMs: 15_000, what: 'webhook retried' });
      const last = received[1]!;
      const [t, v1] = String(last.headers['x-parley-signature'])
        .split(',')
        .map((p) => p.split('=')[1]);
      expect(v1).toBe(createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${last.body}`).digest('hex'));
      expect(JSON.parse(last.body)).toMatchObject({ type: 'run.finished', runId, result: { status: 'SUCCEEDED' } });
    } finally {
      hook.close();
    }
  });

  test('webhooks to hosts not allowed, or to private addresses, are refused', async () => {
    expect((await startRun({ input: { text: 'x' }, webhook: 'https://evil.example.org/x' }, t1user, strict)).status).toBe(400);
    expect((await startRun({ input: { text: 'x' }, webhook: 'https://127.0.0.1/x' }, t1user, strict)).status).toBe(400);
    expect((await startRun({ input: { text: 'x' }, webhook: 'http://hooks.example.com/x' }, t1user, strict)).status).toBe(400);
  });

  test('flows, agents and stats answer through the bus', async () => {
    const flows = (await (await fetch(`${gw.http}/api/v1/flows`, { headers: auth(t1user) })).json()) as { flows: Array<{ name: string }> };
    expect(flows.flows.map((f) => f.name)).toContain('chat');
    const agents = (await (await fetch(`${gw.http}/api/v1/agents`, { headers: auth(t1admin) })).json()) as { agents: Array<{ agentId: string }> };
    const agentId = agents.agents[0]!.agentId;
    const put = await fetch(`${gw.http}/api/v1/agents/${agentId}`, { method: 'PUT', headers: auth(t1admin), body: JSON.stringify({ temperature: 0.3 }) });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ agentId, temperature: 0.3 });
    const stats = await fetch(`${gw.http}/api/v1/stats`, { headers: auth(t1admin) });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ conversations: expect.any(Number) });
  });

  test('/healthz, /readyz and /docs on the public port, /metrics on the internal one', async () => {
    expect((await fetch(`${gw.http}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.http}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.metrics}/metrics`)).text();
    expect(metrics).toContain('parley_gateway_runs_started_total');
    const spec = (await (await fetch(`${gw.http}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/runs', '/api/v1/runs/{id}/events', '/api/v1/agents/{id}']));
  });
});
