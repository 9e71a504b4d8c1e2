/**
 * Regression tests of issue 17 items 1, 2, 3 (web side) and 8, against a real gateway and services:
 * each repro of the issue, played as the attacker did, is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newRedis, waitFor } from '@parley/testing';
import { chatwootContactId, chatwootConversationId } from '@parley/contracts';
import { contactActor } from '../apps/gateway/src/auth/access.js';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { ask, wsProbe, type Frame } from './support/ws-probe.js';

const platform = usePlatform('gwiso', { gateway: {} });
let strict: RunningGateway;

beforeAll(async () => {
  // Same bus and Redis, one chat message per minute: the rate-limit budget of item 8.
  strict = await startGateway(platform.prefix, { RUNS_PER_MINUTE: '1' });
});
afterAll(async () => {
  await strict?.close();
});

const T = 'iso';
const alice = token({ sub: 'alice', tenant: T });
const bob = token({ sub: 'bob', tenant: T });
const operator = token({ sub: 'op', tenant: T, roles: ['operator'] });
const admin = token({ sub: 'boss', tenant: T, roles: ['admin'] });
const foreignAdmin = token({ sub: 'boss', tenant: 'iso-other', roles: ['admin'] });

const h = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const post = (path: string, t: string, body: unknown) => fetch(`${platform.gw.http}${path}`, { method: 'POST', headers: h(t), body: JSON.stringify(body) });
const get = (path: string, t: string) => fetch(`${platform.gw.http}${path}`, { headers: h(t) });

async function finishedRun(t: string, body: unknown): Promise<string> {
  const res = await post('/api/v1/runs', t, body);
  expect(res.status).toBe(202);
  const { runId } = (await res.json()) as { runId: string };
  await waitFor(async () => ((await (await get(`/api/v1/runs/${runId}`, t)).json()) as { status?: string }).status === 'SUCCEEDED', {
    timeoutMs: 30_000,
    what: `run ${runId} to succeed`,
  });
  return runId;
}

async function socket(t: string, query = '') {
  const p = wsProbe(`${platform.gw.ws}?token=${t}${query}`);
  await p.welcome;
  return p;
}

const errorFor = (ref: string) => (f: Frame) => f.type === 'error' && f.ref === ref;

describe('issue 17 item 1: REST runs follow the conversation rule', () => {
  test("another user of the tenant can neither summarize nor write a user's conversation; staff can read it", async () => {
    const conversationId = `alice-${Date.now()}`;
    await finishedRun(alice, { input: { text: 'my secret is 4242 [[tokens:3]]' }, conversationId });
    const before = (await (await get(`/api/v1/conversations/${conversationId}/messages`, alice)).json()) as { messages: unknown[] };
    expect(before.messages).toHaveLength(2);

    const summarize = await post('/api/v1/runs', bob, { flow: 'summarize_conversation', conversationId, input: {} });
    expect(summarize.status).toBe(404);
    expect(await summarize.json()).toMatchObject({ error: { code: 'not_found' } });
    const write = await post('/api/v1/runs', bob, { flow: 'chat', conversationId, input: { text: 'written by bob' } });
    expect(write.status).toBe(404);
    expect((await get(`/api/v1/conversations/${conversationId}/messages`, bob)).status).toBe(404);
    expect((await get(`/api/v1/conversations/${conversationId}`, bob)).status).toBe(404);

    const after = (await (await get(`/api/v1/conversations/${conversationId}/messages`, alice)).json()) as { messages: unknown[] };
    expect(after.messages).toHaveLength(2);
    // Staff (operator) of the tenant may read and act.
    expect((await post('/api/v1/runs', operator, { flow: 'summarize_conversation', conversationId, input: {} })).status).toBe(202);
    expect((await get(`/api/v1/conversations/${conversationId}/messages`, operator)).status).toBe(200);
  });
});

describe('issue 17 item 2: runs without an owner record, and made-up run ids', () => {
  test("another tenant's admin cannot resume, read or cancel a run whose gateway owner record is gone; made-up ids are not_found", async () => {
    const runId = await finishedRun(alice, { flow: 'poem', input: { topic: 'tides' } });
    const r = newRedis();
    try {
      expect(await r.del(`${platform.prefix}:gw:run:{${runId}}:owner`)).toBe(1);
    } finally {
      r.disconnect();
    }
    const foreign = await socket(foreignAdmin);
    expect(await ask(foreign, { type: 'resume', runId, lastSeq: 0 }, errorFor('resume'))).toMatchObject({ code: 'not_found' });
    expect(await ask(foreign, { type: 'resume', runId: 'made-up-run', lastSeq: 0 }, errorFor('resume'))).toMatchObject({ code: 'not_found' });
    expect(await ask(foreign, { type: 'chat.cancel', runId }, errorFor('chat.cancel'))).toMatchObject({ code: 'not_found' });
    foreign.close();
    for (const path of [`/api/v1/runs/${runId}`, `/api/v1/runs/${runId}/events`]) expect((await get(path, foreignAdmin)).status, path).toBe(404);

    // Without the gateway's record, agent-execution's (tenant + owner) decides: the owner and staff read it, another user does not.
    for (const t of [alice, admin]) {
      const s = await socket(t);
      expect(await ask(s, { type: 'resume', runId, lastSeq: 0 }, (f) => f.type === 'agent.message' || f.type === 'error')).toMatchObject({
        type: 'agent.message',
        runId,
      });
      expect(await ask(s, { type: 'resume', runId: 'made-up-run', lastSeq: 0 }, errorFor('resume'))).toMatchObject({ code: 'not_found' });
      s.close();
      expect((await get(`/api/v1/runs/${runId}`, t)).status).toBe(200);
    }
    const plain = await socket(bob);
    expect(await ask(plain, { type: 'resume', runId, lastSeq: 0 }, errorFor('resume'))).toMatchObject({ code: 'not_found' });
    plain.close();
    expect((await get(`/api/v1/runs/${runId}`, bob)).status).toBe(404);
    await expect((await get(`/api/v1/runs/${runId}`, alice)).json()).resolves.toMatchObject({ ownerId: 'alice' });
  });

  test('a channel run is owned by its contact: web users of the tenant and other tenants get not_found, staff stream it', async () => {
    const address = { accountId: 17, inboxId: 3 };
    const conversationId = chatwootConversationId({ ...address, conversationId: Date.now() % 100000 });
    const contact = contactActor(T, chatwootContactId({ ...address, contactId: 9 }));
    const runId = `cw-run-${Date.now()}`;
    await platform.gw.gw.ctx.runs.send({
      actor: contact,
      run: { runId, conversationId, channel: 'chatwoot', input: { text: 'hola, mi pedido 991 [[tokens:3]]' } },
    });
    await waitFor(async () => ((await (await get(`/api/v1/runs/${runId}`, admin)).json()) as { status?: string }).status === 'SUCCEEDED', {
      timeoutMs: 30_000,
      what: 'the channel run',
    });
    // Only agent-execution's record is left (the gateway's expired, or another replica's Redis record is gone): its contact owner still holds.
    const r = newRedis();
    try {
      expect(await r.del(`${platform.prefix}:gw:run:{${runId}}:owner`)).toBe(1);
    } finally {
      r.disconnect();
    }

    for (const t of [alice, foreignAdmin]) {
      const s = await socket(t);
      expect(await ask(s, { type: 'resume', runId, lastSeq: 0 }, errorFor('resume'))).toMatchObject({ code: 'not_found' });
      expect(await ask(s, { type: 'history.get', conversationId }, errorFor('history.get'))).toMatchObject({ code: 'not_found' });
      s.close();
      expect((await get(`/api/v1/runs/${runId}`, t)).status).toBe(404);
      expect((await get(`/api/v1/conversations/${encodeURIComponent(conversationId)}/messages`, t)).status).toBe(404);
    }
    const staff = await socket(operator);
    expect(await ask(staff, { type: 'resume', runId, lastSeq: 0 }, (f) => f.type === 'agent.message' || f.type === 'error')).toMatchObject({
      type: 'agent.message',
      runId,
    });
    const history = await ask(staff, { type: 'history.get', conversationId }, (f) => f.type === 'history' || f.type === 'error');
    expect(history).toMatchObject({ type: 'history', conversationId });
    expect((history.messages as unknown[]).length).toBe(2);
    staff.close();
  });
});

describe('RunStarter applies the conversation rule to every caller', () => {
  test("a contact cannot start a run in a web conversation, nor a user in a channel's, even past the request schemas", async () => {
    const runs = platform.gw.gw.ctx.runs;
    const contact = contactActor(T, chatwootContactId({ accountId: 1, inboxId: 2, contactId: 3 }));
    const webConversation = `alice-web-${Date.now()}`;
    await expect(
      runs.send({ actor: contact, run: { runId: `rs-${Date.now()}-a`, conversationId: webConversation, channel: 'chatwoot', input: { text: 'x' } } }),
    ).rejects.toMatchObject({ code: 'not_found' });
    const channelConversation = chatwootConversationId({ accountId: 1, inboxId: 2, conversationId: 4 });
    const principal = { userId: 'alice', tenantId: T, roles: ['admin'] };
    await expect(
      runs.start({ principal, run: { runId: `rs-${Date.now()}-b`, conversationId: channelConversation, channel: 'api', input: { text: 'x' } } }),
    ).rejects.toMatchObject({ code: 'invalid_payload' });
  });
});

describe('issue 17 item 3 (web side): channel conversation ids cannot be created or claimed from the web or REST', () => {
  test('a socket opened on a cw: id is closed 4403; chat.message and REST runs naming one are refused, staff included', async () => {
    const conversationId = chatwootConversationId({ accountId: 5, inboxId: 6, conversationId: Date.now() % 100000 });
    for (const t of [alice, admin]) {
      const s = wsProbe(`${platform.gw.ws}?token=${t}&conversationId=${encodeURIComponent(conversationId)}`);
      expect((await s.closed).code).toBe(4403);
      await expect(s.welcome).rejects.toThrow();
      const res = await post('/api/v1/runs', t, { input: { text: 'claim' }, conversationId });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload' } });
    }
    const s = await socket(alice);
    expect(await ask(s, { type: 'chat.message', id: 'claim-1', text: 'claim', conversationId }, (f) => f.type === 'error')).toMatchObject({
      code: 'invalid_payload',
    });
    s.close();
    // Nothing was created under the channel's id.
    expect((await get(`/api/v1/conversations/${encodeURIComponent(conversationId)}`, admin)).status).toBe(404);
  });
});

describe('issue 17 item 8: Redis keys built from input cannot collide', () => {
  test("a resent message id of a look-alike principal starts its own run, never the other's", async () => {
    // Before keyPart, both claim keys read `{t8}:{u}:x:m-1`.
    const victim = await socket(token({ sub: '{u}:x', tenant: 't8' }));
    const accepted = await ask(victim, { type: 'chat.message', id: 'm-1', text: 'victim secret 5151 [[tokens:3]]' }, (f) => f.type === 'chat.accepted');
    await victim.next((f) => f.type === 'agent.message', { what: "the victim's answer" });
    victim.close();
    const attacker = await socket(token({ sub: 'x', tenant: 't8}:{u' }));
    const mine = await ask(attacker, { type: 'chat.message', id: 'm-1', text: 'hello [[tokens:2]]' }, (f) => f.type === 'chat.accepted' || f.type === 'error');
    expect(mine.type).toBe('chat.accepted');
    expect(mine.runId).not.toBe(accepted.runId);
    const answer = await attacker.next((f) => f.type === 'agent.message' && f.runId === mine.runId, { what: "the attacker's own answer" });
    expect(String(answer.text)).not.toContain('5151');
    attacker.close();
  });

  test("a message claim that names another principal's run never hands it over", async () => {
    const victim = await socket(token({ sub: 'claim-victim', tenant: T }));
    const theirs = await ask(victim, { type: 'chat.message', id: 'shared-1', text: 'victim text 6262 [[tokens:2]]' }, (f) => f.type === 'chat.accepted');
    await victim.next((f) => f.type === 'agent.message', { what: "the victim's answer" });
    victim.close();
    // A claim key of alice's that points at the victim's run (as a collision or a stale key would).
    const r = newRedis();
    try {
      await r.set(`${platform.prefix}:gw:msg:{${T}}:user:alice:shared-1`, String(theirs.runId), 'EX', 60);
    } finally {
      r.disconnect();
    }
    const s = await socket(alice);
    const from = s.frames.length;
    expect(await ask(s, { type: 'chat.message', id: 'shared-1', text: 'hello' }, (f) => f.type === 'chat.accepted' || f.type === 'error')).toMatchObject({
      type: 'error',
      code: 'conflict',
    });
    expect(s.frames.slice(from).some((f) => f.runId === theirs.runId)).toBe(false);
    s.close();
  });

  test('rate-limit budgets of tenant "rl:a" user "b" and tenant "rl" user "a:b" are separate', async () => {
    const first = wsProbe(`${strict.ws}?token=${token({ sub: 'b', tenant: 'rl:a' })}`);
    await first.welcome;
    expect(
      await ask(first, { type: 'chat.message', id: 'rl-1', text: 'one [[tokens:1]]' }, (f) => f.type === 'chat.accepted' || f.type === 'error'),
    ).toMatchObject({ type: 'chat.accepted' });
    expect(await ask(first, { type: 'chat.message', id: 'rl-2', text: 'two' }, (f) => f.type === 'error')).toMatchObject({ code: 'rate_limited' });
    first.close();
    const second = wsProbe(`${strict.ws}?token=${token({ sub: 'a:b', tenant: 'rl' })}`);
    await second.welcome;
    expect(
      await ask(second, { type: 'chat.message', id: 'rl-1', text: 'mine [[tokens:1]]' }, (f) => f.type === 'chat.accepted' || f.type === 'error'),
    ).toMatchObject({ type: 'chat.accepted' });
    second.close();
  });
});
