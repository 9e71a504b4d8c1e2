/**
 * The authorization matrix: every REST route the gateway registers (its real route table, collected
 * by an onRoute hook) and every WS client frame type (the ClientFrame catalog of contracts), each
 * called by every kind of principal against a real gateway and services, with the outcome asserted.
 *
 * A route or frame type without a row fails the test: add the row to REST or FRAMES below (rows are
 * keyed `METHOD /path` exactly as Fastify registers them; HEAD routes Fastify derives from a GET
 * share its row). Further cases of a route or frame are rows keyed `METHOD /path (case)` or
 * `<frame type> (case)`. Principals run in WHO's order, so a destructive call that succeeds
 * (delete, close) comes after the calls that must fail.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { chatwootContactId, chatwootConversationId, ClientFrame } from '@parley/contracts';
import { contactActor } from '../apps/gateway/src/auth/access.js';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { wsProbe, type Frame } from './support/ws-probe.js';

const platform = usePlatform('gwmatrix', { query: true, gateway: {} });

const WHO = ['anonymous', 'owner', 'otherUser', 'operator', 'foreignAdmin', 'admin'] as const;
type Who = (typeof WHO)[number];
const TENANT = 'mx';
const TOKENS: Record<Who, string | null> = {
  anonymous: null,
  owner: token({ sub: 'mx-owner', tenant: TENANT }),
  otherUser: token({ sub: 'mx-other', tenant: TENANT }),
  operator: token({ sub: 'mx-operator', tenant: TENANT, roles: ['operator'] }),
  admin: token({ sub: 'mx-admin', tenant: TENANT, roles: ['admin'] }),
  foreignAdmin: token({ sub: 'mx-admin', tenant: 'mx-foreign', roles: ['admin'] }),
};

const MX_AGENT = {
  name: 'Matrix sales',
  systemPrompt: 'You sell boats.',
  greeting: '',
  model: 'parley-dev',
  temperature: 0.2,
  tools: [],
  flow: 'chat',
  doubleTexting: 'enqueue',
  maxRunMs: 30_000,
};

/** What the rows need: a conversation and a finished run of `owner`, and things to delete or close. */
interface Fixture {
  conversationId: string;
  runId: string;
  closable: string;
  agentId: string;
  /** An agent of the matrix tenant besides the default one. */
  salesAgentId: string;
  documentId: string;
  /** A document no row deletes: the one `GET /knowledge/documents/:id` reads. */
  keptDocumentId: string;
  /** A Chatwoot conversation and its run, owned by a channel contact of the tenant. */
  channelConversationId: string;
  channelRunId: string;
}

// ---- REST rows -------------------------------------------------------------------------------

type Expect = Record<Who, number>;
interface RestRow {
  call(fx: Fixture): { path: string; body?: unknown };
  expect: Expect;
}

/** The conversation and run rule: owner and staff of the tenant; another user or tenant 404. */
const owned = (ok: number): Expect => ({ anonymous: 401, owner: ok, otherUser: 404, operator: ok, admin: ok, foreignAdmin: 404 });
/** Tenant-wide reads and acts: operators and admins; the foreign admin sees its own tenant only. */
const staff = (ok: number, foreign = ok): Expect => ({ anonymous: 401, owner: 403, otherUser: 403, operator: ok, admin: ok, foreignAdmin: foreign });
const adminOnly = (ok: number, foreign = ok): Expect => ({ anonymous: 401, owner: 403, otherUser: 403, operator: 403, admin: ok, foreignAdmin: foreign });
/** Any signed-in user of any tenant, each within its tenant. */
const signedIn = (ok: number): Expect => ({ anonymous: 401, owner: ok, otherUser: ok, operator: ok, admin: ok, foreignAdmin: ok });
/** No bearer token involved: everyone gets the same answer. */
const open = (status: number): Expect => ({ anonymous: status, owner: status, otherUser: status, operator: status, admin: status, foreignAdmin: status });
const at = (path: string, body?: unknown) => () => (body === undefined ? { path } : { path, body });

const REST: Record<string, RestRow> = {
  // runs
  'POST /api/v1/runs': {
    call: (fx) => ({ path: '/api/v1/runs', body: { flow: 'summarize_conversation', conversationId: fx.conversationId, input: {} } }),
    expect: owned(202),
  },
  // Waits for the summary (the dev model answers at once): 200 with the finished run.
  'POST /api/v1/runs/wait': {
    call: (fx) => ({ path: '/api/v1/runs/wait', body: { flow: 'summarize_conversation', conversationId: fx.conversationId, input: {}, timeoutMs: 30_000 } }),
    expect: owned(200),
  },
  'GET /api/v1/runs/:id': { call: (fx) => ({ path: `/api/v1/runs/${fx.runId}` }), expect: owned(200) },
  'GET /api/v1/runs/:id/events': { call: (fx) => ({ path: `/api/v1/runs/${fx.runId}/events` }), expect: owned(200) },
  // The run has finished: cancelling answers {cancelled: false}, but only to those who may touch it.
  'POST /api/v1/runs/:id/cancel': { call: (fx) => ({ path: `/api/v1/runs/${fx.runId}/cancel`, body: {} }), expect: owned(200) },
  // The run has finished, so it waits on no approval: those who may touch it hear 409; others do not learn it exists.
  'POST /api/v1/runs/:id/approval': {
    call: (fx) => ({ path: `/api/v1/runs/${fx.runId}/approval`, body: { approvalId: 'call_mx', decision: 'approve' } }),
    expect: owned(409),
  },
  // Further cases of a route: `METHOD /path (case)`, probed when the route exists.
  'POST /api/v1/runs (channel conversation)': {
    call: (fx) => ({ path: '/api/v1/runs', body: { flow: 'summarize_conversation', conversationId: fx.channelConversationId, input: {} } }),
    expect: { ...signedIn(400), anonymous: 401 },
  },
  'POST /api/v1/runs (made-up conversation id: a new conversation of the caller)': {
    call: () => ({ path: '/api/v1/runs', body: { flow: 'poem', conversationId: `mx-new-${Date.now()}`, input: { topic: 'sea' } } }),
    expect: signedIn(202),
  },
  'GET /api/v1/runs/:id (made-up run id)': { call: at('/api/v1/runs/no-such-run'), expect: { ...signedIn(404), anonymous: 401 } },
  'GET /api/v1/runs/:id (channel run)': { call: (fx) => ({ path: `/api/v1/runs/${fx.channelRunId}` }), expect: { ...owned(200), owner: 404 } },
  'GET /api/v1/runs/:id/events (channel run)': { call: (fx) => ({ path: `/api/v1/runs/${fx.channelRunId}/events` }), expect: { ...owned(200), owner: 404 } },
  'GET /api/v1/conversations/:id/messages (channel conversation)': {
    call: (fx) => ({ path: `/api/v1/conversations/${encodeURIComponent(fx.channelConversationId)}/messages` }),
    expect: { ...owned(200), owner: 404 },
  },
  'GET /api/v1/flows': { call: at('/api/v1/flows'), expect: signedIn(200) },
  // A plain user lists only their own runs (tests/gateway-runs-list.test.ts checks which).
  'GET /api/v1/runs': { call: at('/api/v1/runs'), expect: signedIn(200) },
  // conversations
  'GET /api/v1/conversations': { call: at('/api/v1/conversations'), expect: staff(200) },
  'GET /api/v1/conversations/:id': { call: (fx) => ({ path: `/api/v1/conversations/${fx.conversationId}` }), expect: owned(200) },
  'GET /api/v1/conversations/:id/messages': { call: (fx) => ({ path: `/api/v1/conversations/${fx.conversationId}/messages` }), expect: owned(200) },
  // the caller's own conversations: every signed-in user, each sees only theirs (tests/continuity.test.ts checks the content)
  'GET /api/v1/me/conversations': { call: at('/api/v1/me/conversations'), expect: signedIn(200) },
  // Search (tests/conversation-search.test.ts checks whose conversations each one finds).
  'GET /api/v1/conversations (search)': { call: at('/api/v1/conversations?q=secret'), expect: staff(200) },
  'GET /api/v1/conversations (search text too long)': { call: at(`/api/v1/conversations?q=${'x'.repeat(201)}`), expect: staff(400) },
  'GET /api/v1/me/conversations (search)': { call: at('/api/v1/me/conversations?q=secret'), expect: signedIn(200) },
  'GET /api/v1/me/conversations (search text with a control character)': {
    call: at('/api/v1/me/conversations?q=a%01b'),
    expect: { ...signedIn(400), anonymous: 401 },
  },
  'POST /api/v1/conversations/:id/close': { call: (fx) => ({ path: `/api/v1/conversations/${fx.closable}/close`, body: {} }), expect: staff(200, 404) },
  // the support desk (tests/web-takeover.test.ts checks the flow): staff of the tenant; in WHO order the
  // operator takes the owner's conversation over, writes, hands back; the admin finds it held (409)
  'GET /api/v1/handoffs': { call: at('/api/v1/handoffs'), expect: staff(200) },
  'GET /api/v1/handoffs/events': { call: at('/api/v1/handoffs/events'), expect: staff(200) },
  'POST /api/v1/conversations/:id/takeover': {
    call: (fx) => ({ path: `/api/v1/conversations/${fx.conversationId}/takeover`, body: {} }),
    expect: { ...staff(200, 404), admin: 409 },
  },
  'POST /api/v1/conversations/:id/messages': {
    call: (fx) => ({ path: `/api/v1/conversations/${fx.conversationId}/messages`, body: { id: `mx-op-${Date.now()}`, text: 'Hello from a person' } }),
    expect: { ...staff(201, 404), admin: 409 },
  },
  'POST /api/v1/conversations/:id/handback': {
    call: (fx) => ({ path: `/api/v1/conversations/${fx.conversationId}/handback`, body: {} }),
    expect: { ...staff(200, 404), admin: 409 },
  },
  'POST /api/v1/conversations/:id/takeover (channel conversation)': {
    call: (fx) => ({ path: `/api/v1/conversations/${encodeURIComponent(fx.channelConversationId)}/takeover`, body: {} }),
    expect: staff(404),
  },
  // operators
  'GET /api/v1/stats': { call: at('/api/v1/stats'), expect: staff(200) },
  'GET /api/v1/agents': { call: at('/api/v1/agents'), expect: staff(200) },
  // Agent ids are per tenant: the foreign admin changes its own tenant's agent of that id (the default agent).
  'PUT /api/v1/agents/:id': { call: (fx) => ({ path: `/api/v1/agents/${fx.agentId}`, body: { temperature: 0.4 } }), expect: adminOnly(200) },
  // Each admin creates the agent in its own tenant; an id the tenant has already is a 409.
  'POST /api/v1/agents': { call: at('/api/v1/agents', { ...MX_AGENT, agentId: 'mx-created' }), expect: adminOnly(201) },
  'POST /api/v1/agents (existing id)': { call: (fx) => ({ path: '/api/v1/agents', body: { ...MX_AGENT, agentId: fx.agentId } }), expect: adminOnly(409) },
  // `mx-sales` exists in the matrix tenant only: the foreign admin does not learn of it.
  'GET /api/v1/agents/:id': { call: (fx) => ({ path: `/api/v1/agents/${fx.salesAgentId}` }), expect: staff(200, 404) },
  'GET /api/v1/agents/:id (made-up agent id)': { call: at('/api/v1/agents/no-such-agent'), expect: staff(404) },
  'GET /api/v1/agents/:id/versions': { call: (fx) => ({ path: `/api/v1/agents/${fx.salesAgentId}/versions` }), expect: staff(200, 404) },
  'POST /api/v1/agents/:id/archive': { call: (fx) => ({ path: `/api/v1/agents/${fx.salesAgentId}/archive`, body: {} }), expect: adminOnly(200, 404) },
  'POST /api/v1/agents/:id/archive (the default agent)': { call: (fx) => ({ path: `/api/v1/agents/${fx.agentId}/archive`, body: {} }), expect: adminOnly(409) },
  'POST /api/v1/agents/:id/restore': { call: (fx) => ({ path: `/api/v1/agents/${fx.salesAgentId}/restore`, body: {} }), expect: adminOnly(200, 404) },
  // The default agent made default again: no change, and each admin's own tenant's.
  'POST /api/v1/agents/:id/make-default': { call: (fx) => ({ path: `/api/v1/agents/${fx.agentId}/make-default`, body: {} }), expect: adminOnly(200) },
  'POST /api/v1/agents/:id/rollback': {
    call: (fx) => ({ path: `/api/v1/agents/${fx.salesAgentId}/rollback`, body: { version: 1 } }),
    expect: adminOnly(200, 404),
  },
  'GET /api/v1/tools': { call: at('/api/v1/tools'), expect: staff(200) },
  // knowledge: reads for every user of the tenant, writes for admins
  'GET /api/v1/knowledge/documents': { call: at('/api/v1/knowledge/documents'), expect: signedIn(200) },
  'GET /api/v1/knowledge/search': { call: at('/api/v1/knowledge/search?q=harbour'), expect: signedIn(200) },
  'POST /api/v1/knowledge/documents': {
    call: at('/api/v1/knowledge/documents', { title: 'Matrix', text: 'The harbour opens at nine.' }),
    expect: adminOnly(201),
  },
  'GET /api/v1/knowledge/documents/:id': {
    call: (fx) => ({ path: `/api/v1/knowledge/documents/${fx.keptDocumentId}` }),
    expect: { ...signedIn(200), foreignAdmin: 404 },
  },
  'POST /api/v1/knowledge/answer': { call: at('/api/v1/knowledge/answer', { question: 'When does the harbour open?' }), expect: signedIn(200) },
  'DELETE /api/v1/knowledge/documents/:id': { call: (fx) => ({ path: `/api/v1/knowledge/documents/${fx.documentId}` }), expect: adminOnly(204, 404) },
  // channels: Chatwoot inboxes are configured by admins; the webhook is authenticated by its signature only
  'GET /api/v1/channels/chatwoot/inboxes': { call: at('/api/v1/channels/chatwoot/inboxes'), expect: adminOnly(200) },
  'PUT /api/v1/channels/chatwoot/inboxes': { call: at('/api/v1/channels/chatwoot/inboxes', {}), expect: adminOnly(400) },
  'POST /webhooks/chatwoot': { call: at('/webhooks/chatwoot', { event: 'message_created' }), expect: open(401) },
  // dev tokens are off in this gateway (AUTH_DEV_TOKENS unset)
  'POST /api/v1/dev/token': { call: at('/api/v1/dev/token', {}), expect: open(403) },
  // sign-in: public by nature (no token yet); OIDC is not configured in this gateway, and a pick-up without its cookie has nothing to take
  'GET /auth/config': { call: at('/auth/config'), expect: open(200) },
  'GET /auth/login': { call: at('/auth/login'), expect: open(404) },
  'GET /auth/callback': { call: at('/auth/callback?code=x&state=y'), expect: open(404) },
  'POST /auth/session': { call: at('/auth/session', {}), expect: open(401) },
  // the chat socket answers plain HTTP without an upgrade; its frames have their own matrix below
  'GET /ws/chat': { call: at('/ws/chat'), expect: open(404) },
  // CORS preflight (@fastify/cors): no bearer token is involved; OPTIONS without an Origin is no preflight (gateway-edge tests the CORS cases)
  'OPTIONS *': { call: at('/api/v1/runs'), expect: open(404) },
  // public: health, docs, the web UI (/metrics is on the internal port only)
  'GET /healthz': { call: at('/healthz'), expect: open(200) },
  'GET /readyz': { call: at('/readyz'), expect: open(200) },
  'GET /docs': { call: at('/docs'), expect: open(200) },
  'HEAD /docs/': { call: at('/docs/'), expect: open(200) },
  'GET /docs/static/index.html': { call: at('/docs/static/index.html'), expect: open(302) },
  'GET /docs/static/swagger-initializer.js': { call: at('/docs/static/swagger-initializer.js'), expect: open(200) },
  'GET /docs/json': { call: at('/docs/json'), expect: open(200) },
  'GET /docs/yaml': { call: at('/docs/yaml'), expect: open(200) },
  'GET /docs/static/*': { call: at('/docs/static/swagger-ui.css'), expect: open(200) },
};

/** The web UI: `/` says how to build it (503) until apps/web/dist exists, then static files (200). */
function webUiRow(routes: ReadonlyArray<{ method: string; url: string }>): Record<string, RestRow> {
  const built = routes.some((r) => r.url === '/*');
  return built
    ? { 'GET /': { call: at('/'), expect: open(200) }, 'GET /*': { call: at('/index.html'), expect: open(200) } }
    : { 'GET /': { call: at('/'), expect: open(503) } };
}

function rowOf(rows: Record<string, RestRow>, method: string, url: string): { row: RestRow; method: string } | null {
  const own = rows[`${method} ${url}`];
  if (own) return { row: own, method };
  // Fastify derives a HEAD route from every GET: it runs the GET's handler, so it shares its row.
  const get = method === 'HEAD' ? rows[`GET ${url}`] : undefined;
  return get ? { row: get, method: 'HEAD' } : null;
}

// ---- WS rows ---------------------------------------------------------------------------------

/** An outcome: the answering frame's type, `error:<code>`, or `close:<code>` when the socket never opens. */
type Outcome = string;
interface FrameRow {
  frame(fx: Fixture, who: Who): Record<string, unknown>;
  /** The frame types that answer it when it succeeds. */
  answers: string[];
  expect: Record<Who, Outcome>;
}
const wsOwned = (ok: Outcome, foreign: Outcome = 'error:not_found'): Record<Who, Outcome> => ({
  anonymous: 'close:4401',
  owner: ok,
  otherUser: 'error:not_found',
  operator: ok,
  admin: ok,
  foreignAdmin: foreign,
});
const wsAnyone = (ok: Outcome): Record<Who, Outcome> => ({ anonymous: 'close:4401', owner: ok, otherUser: ok, operator: ok, admin: ok, foreignAdmin: ok });

/**
 * Keyed by frame type (each type needs a row of its own name), plus `connect` for the handshake and
 * `<type> (<case>)` rows for further cases of the same frame.
 */
const FRAMES: Record<ClientFrame['type'] | 'connect', FrameRow> & Record<string, FrameRow> = {
  /** The handshake: `?conversationId=` names the socket's conversation (where chat.message writes). */
  connect: { frame: () => ({}), answers: ['welcome'], expect: { ...wsOwned('welcome'), otherUser: 'close:4403', foreignAdmin: 'close:4403' } },
  'chat.message': {
    frame: (fx, who) => ({ type: 'chat.message', id: `mx-${who}-${Date.now()}`, text: 'hello [[tokens:1]]', conversationId: fx.conversationId }),
    answers: ['chat.accepted'],
    expect: wsOwned('chat.accepted'),
  },
  // The run has finished: the owner and staff hear it is not running; others do not learn it exists.
  'chat.cancel': { frame: (fx) => ({ type: 'chat.cancel', runId: fx.runId }), answers: [], expect: wsOwned('error:conflict') },
  'history.get': { frame: (fx) => ({ type: 'history.get', conversationId: fx.conversationId }), answers: ['history'], expect: wsOwned('history') },
  resume: { frame: (fx) => ({ type: 'resume', runId: fx.runId, lastSeq: 0 }), answers: ['agent.message', 'agent.error'], expect: wsOwned('agent.message') },
  'resume (made-up run id)': {
    frame: () => ({ type: 'resume', runId: 'no-such-run', lastSeq: 0 }),
    answers: ['agent.message', 'agent.error'],
    expect: wsAnyone('error:not_found'),
  },
  'chat.cancel (made-up run id)': { frame: () => ({ type: 'chat.cancel', runId: 'no-such-run' }), answers: [], expect: wsAnyone('error:not_found') },
  // Like the REST route: a finished run waits on nothing (conflict to the owner and staff, not_found to others).
  'approval.decide': {
    frame: (fx) => ({ type: 'approval.decide', runId: fx.runId, approvalId: 'call_mx', decision: 'approve' }),
    answers: [],
    expect: wsOwned('error:conflict'),
  },
  'approval.decide (made-up run id)': {
    frame: () => ({ type: 'approval.decide', runId: 'no-such-run', approvalId: 'call_mx', decision: 'reject' }),
    answers: [],
    expect: wsAnyone('error:not_found'),
  },
  // A channel conversation (owned by a Chatwoot contact): staff read it; nobody writes it from the web.
  'history.get (channel conversation)': {
    frame: (fx) => ({ type: 'history.get', conversationId: fx.channelConversationId }),
    answers: ['history'],
    expect: { ...wsOwned('history'), owner: 'error:not_found' },
  },
  'chat.message (channel conversation)': {
    frame: (fx, who) => ({ type: 'chat.message', id: `mx-cw-${who}`, text: 'claim', conversationId: fx.channelConversationId }),
    answers: ['chat.accepted'],
    expect: wsAnyone('error:invalid_payload'),
  },
  'resume (channel run)': {
    frame: (fx) => ({ type: 'resume', runId: fx.channelRunId, lastSeq: 0 }),
    answers: ['agent.message', 'agent.error'],
    expect: { ...wsOwned('agent.message'), owner: 'error:not_found' },
  },
  'conversation.new': { frame: () => ({ type: 'conversation.new' }), answers: ['history'], expect: wsAnyone('history') },
  ping: { frame: () => ({ type: 'ping', t: 1 }), answers: ['pong'], expect: wsAnyone('pong') },
};

// ---- the platform and its fixture -----------------------------------------------------------

const h = (who: Who): Record<string, string> => {
  const t = TOKENS[who];
  return t ? { authorization: `Bearer ${t}` } : {};
};

async function json<T>(res: Response): Promise<T> {
  expect(res.ok, `${res.url} answered ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

let fx: Fixture;

beforeAll(async () => {
  const base = platform.gw.http;
  const post = (who: Who, path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...h(who), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const stamp = Date.now().toString(36);
  const conversationId = `mx-conv-${stamp}`;
  const closable = `mx-closable-${stamp}`;
  const { runId } = await json<{ runId: string }>(await post('owner', '/api/v1/runs', { input: { text: 'owner secret 7311 [[tokens:3]]' }, conversationId }));
  await json(await post('owner', '/api/v1/runs', { input: { text: 'close me [[tokens:1]]' }, conversationId: closable }));
  await waitFor(async () => (await json<{ status: string }>(await fetch(`${base}/api/v1/runs/${runId}`, { headers: h('owner') }))).status === 'SUCCEEDED', {
    timeoutMs: 30_000,
    what: "the owner's run",
  });
  await waitFor(async () => (await fetch(`${base}/api/v1/conversations/${closable}`, { headers: h('owner') })).status === 200, {
    timeoutMs: 30_000,
    what: 'the closable conversation',
  });
  const { agents } = await json<{ agents: Array<{ agentId: string }> }>(await fetch(`${base}/api/v1/agents`, { headers: h('admin') }));
  const sales = await json<{ agentId: string }>(await post('admin', '/api/v1/agents', { ...MX_AGENT, agentId: 'mx-sales' }));
  const doc = await json<{ documentId: string }>(
    await post('admin', '/api/v1/knowledge/documents', { title: 'To delete', text: 'The lighthouse closes at noon.' }),
  );
  const kept = await json<{ documentId: string }>(await post('admin', '/api/v1/knowledge/documents', { title: 'Kept', text: 'The ferry leaves at ten.' }));
  const channelConversationId = chatwootConversationId({ accountId: 40, inboxId: 41, conversationId: Date.now() % 1_000_000 });
  const channelRunId = `mx-cw-run-${stamp}`;
  const contact = contactActor(TENANT, chatwootContactId({ accountId: 40, inboxId: 41, contactId: 42 }));
  await platform.gw.gw.ctx.runs.send({
    actor: contact,
    run: { runId: channelRunId, conversationId: channelConversationId, channel: 'chatwoot', input: { text: 'hola [[tokens:2]]' } },
  });
  await waitFor(
    async () => (await json<{ status: string }>(await fetch(`${base}/api/v1/runs/${channelRunId}`, { headers: h('admin') }))).status === 'SUCCEEDED',
    { timeoutMs: 30_000, what: 'the channel run' },
  );
  fx = {
    conversationId,
    runId,
    closable,
    agentId: agents[0]!.agentId,
    salesAgentId: sales.agentId,
    documentId: doc.documentId,
    keptDocumentId: kept.documentId,
    channelConversationId,
    channelRunId,
  };
}, 90_000);

// ---- the tests ---------------------------------------------------------------------------------

describe('authorization matrix', () => {
  test('every route of the gateway and every WS client frame type has a matrix row', () => {
    const rows = { ...REST, ...webUiRow(platform.gw.gw.routes) };
    const missing = platform.gw.gw.routes.filter((r) => !rowOf(rows, r.method, r.url)).map((r) => `${r.method} ${r.url}`);
    expect(missing, 'routes without a row in REST (tests/authorization-matrix.test.ts)').toEqual([]);
    const types = ClientFrame.options.map((o) => o.shape.type.value);
    expect(
      types.filter((t) => !Object.hasOwn(FRAMES, t)),
      'client frame types without a row in FRAMES',
    ).toEqual([]);
  });

  test('REST: every route × every principal', async () => {
    const rows = { ...REST, ...webUiRow(platform.gw.gw.routes) };
    const expected: Record<string, Expect> = {};
    const actual: Record<string, Partial<Expect>> = {};
    // Registration order, GET before its HEAD: destructive routes come after the reads of what they destroy.
    for (const r of platform.gw.gw.routes) {
      const found = rowOf(rows, r.method, r.url);
      if (!found) continue;
      const key = `${r.method} ${r.url}`;
      expected[key] = found.row.expect;
      const got: Partial<Expect> = {};
      for (const who of WHO) got[who] = await statusOf(found.method, found.row, who);
      actual[key] = got;
    }
    for (const [key, row] of Object.entries(rows)) {
      const m = /^(\S+) (\S+) \(.+\)$/.exec(key);
      if (!m || !platform.gw.gw.routes.some((r) => r.method === m[1] && r.url === m[2])) continue;
      expected[key] = row.expect;
      const got: Partial<Expect> = {};
      for (const who of WHO) got[who] = await statusOf(m[1]!, row, who);
      actual[key] = got;
    }
    expect(actual).toEqual(expected);
  }, 120_000);

  test('WS: the handshake and every client frame type × every principal', async () => {
    const actual: Record<string, Partial<Record<Who, Outcome>>> = {};
    const expected: Record<string, Record<Who, Outcome>> = {};
    for (const [type, row] of Object.entries(FRAMES)) {
      expected[type] = row.expect;
      const got: Partial<Record<Who, Outcome>> = {};
      for (const who of WHO) got[who] = await probeFrame(type, row, who);
      actual[type] = got;
    }
    expect(actual).toEqual(expected);
  }, 120_000);
});

async function statusOf(method: string, row: RestRow, who: Who): Promise<number> {
  const { path, body } = row.call(fx);
  const headers: Record<string, string> = { ...h(who) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const init: RequestInit = { method, headers, redirect: 'manual' };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${platform.gw.http}${path}`, init);
  await res.body?.cancel();
  return res.status;
}

async function probeFrame(type: string, row: FrameRow, who: Who): Promise<Outcome> {
  const t = TOKENS[who];
  const query = type === 'connect' ? `&conversationId=${fx.conversationId}` : '';
  const p = wsProbe(`${platform.gw.ws}${t ? `?token=${t}` : '?'}${query}`);
  try {
    const opened = await Promise.race([p.welcome.then(() => null), p.closed]);
    if (opened) return `close:${opened.code}`;
    if (type === 'connect') return 'welcome';
    // The handshake ends with the socket's conversation history: answers come after it.
    await p.next((f) => f.type === 'history', { what: 'the handshake history' });
    const frame = row.frame(fx, who);
    const ref = frame.type === 'chat.message' ? String(frame.id) : String(frame.type);
    const from = p.frames.length;
    p.send(frame);
    // One frame in flight: an error without a ref (the frame did not decode) answers it too.
    const answer: Frame = await p.next((f) => (f.type === 'error' && (f.ref === ref || f.ref === undefined)) || row.answers.includes(f.type), {
      from,
      what: `the answer to ${type} for ${who}`,
    });
    return answer.type === 'error' ? `error:${String(answer.code)}` : answer.type;
  } finally {
    p.close();
  }
}
