/**
 * Approval interrupts end to end: real services, an in-process gateway, the dev model scripted to call current_time,
 * which the agents below gate. A paused run is decided over WS or REST by whom the agent's `approver` says; the
 * conversation takes no new message meanwhile; a pause past APPROVAL_TIMEOUT_MS fails the run with a transcript entry.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import type { HistoryMessage } from '@parley/contracts';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { ask, wsProbe, type Frame, type WsProbe } from './support/ws-probe.js';
import { gatedClockAgent } from './support/agents.js';

// Long enough for the other tests to decide under load, short enough for the timeout test to wait it out.
const TIMEOUT_MS = 12_000;
const platform = usePlatform('gwapproval', { gateway: {}, services: { APPROVAL_TIMEOUT_MS: String(TIMEOUT_MS), APPROVAL_SWEEP_MS: '250' } });
const TENANT = 'approve';
const user = token({ sub: 'ap-user', tenant: TENANT });
const other = token({ sub: 'ap-other', tenant: TENANT });
const operator = token({ sub: 'ap-operator', tenant: TENANT, roles: ['operator'] });
const admin = token({ sub: 'ap-admin', tenant: TENANT, roles: ['admin'] });

const api = (path: string, bearer: string, body?: unknown) =>
  fetch(`${platform.gw.http}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function createAgent(agentId: string, approver: 'user' | 'operator'): Promise<void> {
  const res = await api('/api/v1/agents', admin, gatedClockAgent(agentId, `Gated ${approver}`, approver));
  expect(res.status, await res.text()).toBe(201);
}

async function open(agent: string): Promise<{ p: WsProbe; conversationId: string }> {
  const p = wsProbe(`${platform.gw.ws}?token=${user}&new=1&agent=${agent}`);
  const welcome = await p.welcome;
  await p.next((f) => f.type === 'history', { what: 'the handshake history' });
  return { p, conversationId: String(welcome.conversationId) };
}

/** Sends a message that makes the model call current_time; answers the run id and the approval it pauses on. */
async function pausedTurn(p: WsProbe): Promise<{ runId: string; asked: Frame }> {
  const id = `m-${Math.random().toString(36).slice(2)}`;
  const accepted = await ask(p, { type: 'chat.message', id, text: 'What time is it?' }, (f) => f.type === 'chat.accepted' || f.type === 'error');
  expect(accepted.type, JSON.stringify(accepted)).toBe('chat.accepted');
  const runId = String(accepted.runId);
  const asked = await p.next((f) => f.type === 'agent.step' && f.runId === runId && f.name === 'approval_requested', { what: 'the approval request' });
  return { runId, asked };
}

/** Reads the run's SSE stream up to the event of its approval_requested step; answers that event's status. */
async function sseStatusAfterAsk(runId: string): Promise<string> {
  const stop = new AbortController();
  const res = await fetch(`${platform.gw.http}/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${user}` }, signal: stop.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before the approval step: ${text}`);
      text += value;
      for (const line of text.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const d = JSON.parse(line.slice(6)) as { status: string; event?: { type: string; name?: string } };
        if (d.event?.type === 'run.step' && d.event.name === 'approval_requested') return d.status;
      }
    }
  } finally {
    stop.abort();
  }
}

const approvalOf = (asked: Frame) => asked.data as { approvalId: string; tool: string; args: unknown; approver: string; expiresAt: string };
const endOf = (p: WsProbe, runId: string): Promise<Frame> =>
  p.next((f) => (f.type === 'agent.message' || f.type === 'agent.error') && f.runId === runId, { what: `the end of run ${runId}`, timeoutMs: 30_000 });

describe('approval interrupts through the gateway', () => {
  beforeAll(async () => {
    await createAgent('ap-user', 'user');
    await createAgent('ap-op', 'operator');
  });

  test('WS: the user sees the call and its arguments, a new message is refused while it waits, approving from the socket brings the answer', async () => {
    const { p, conversationId } = await open('ap-user');
    try {
      const { runId, asked } = await pausedTurn(p);
      expect(approvalOf(asked)).toMatchObject({ tool: 'current_time', args: {}, approver: 'user' });
      const run = await (await api(`/api/v1/runs/${runId}`, user)).json();
      expect(run).toMatchObject({ status: 'PAUSED', approval: { approvalId: approvalOf(asked).approvalId } });

      // SSE and the run list say it waits: the stream's state after the asking step is PAUSED.
      const listed = (await (await api('/api/v1/runs?status=PAUSED', user)).json()) as { items: Array<{ runId: string }> };
      expect(listed.items.map((r) => r.runId)).toContain(runId);
      expect(await sseStatusAfterAsk(runId)).toBe('PAUSED');

      const second = await ask(p, { type: 'chat.message', id: `m-${Date.now()}`, text: 'hello?' }, (f) => f.type === 'chat.accepted');
      const refused = await endOf(p, String(second.runId));
      expect(refused).toMatchObject({ type: 'agent.error', code: 'conflict' });
      expect(String(refused.message)).toContain(runId);
      // Refused before it began: no record, and the transcript does not hold the message.
      expect((await api(`/api/v1/runs/${String(second.runId)}`, user)).status).toBe(404);
      const transcript = (await (await api(`/api/v1/conversations/${conversationId}/messages?limit=50`, user)).json()) as { messages: HistoryMessage[] };
      expect(transcript.messages.map((m) => m.content)).not.toContain('hello?');

      p.send({ type: 'approval.decide', runId, approvalId: approvalOf(asked).approvalId, decision: 'approve' });
      await p.next((f) => f.type === 'agent.step' && f.runId === runId && f.kind === 'tool_result', { what: 'the tool result' });
      const answer = await endOf(p, runId);
      expect(answer).toMatchObject({ type: 'agent.message' });
      expect(String(answer.text)).toContain('current_time returned');
      // After the fact, GET shows the run with the step that asked.
      const done = (await (await api(`/api/v1/runs/${runId}`, user)).json()) as { status: string; steps: Array<{ name: string }> };
      expect(done.status).toBe('SUCCEEDED');
      expect(done.steps.map((s) => s.name)).toContain('approval_requested');
    } finally {
      p.close();
    }
  });

  test('REST: edits are checked against the tool schema (400 naming the field); another user gets 404; a second decision 409', async () => {
    const { p } = await open('ap-user');
    try {
      const { runId, asked } = await pausedTurn(p);
      const { approvalId } = approvalOf(asked);
      const path = `/api/v1/runs/${runId}/approval`;

      const bad = await api(path, user, { approvalId, decision: 'edit', args: { timezone: 42 } });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: { code: 'invalid_payload', details: { fields: ['args.timezone'] } } });
      expect((await api(path, other, { approvalId, decision: 'approve' })).status).toBe(404);
      expect((await api(path, user, { approvalId, decision: 'maybe' })).status).toBe(400);

      const ok = await api(path, user, { approvalId, decision: 'edit', args: { timezone: 'Asia/Tokyo' } });
      expect(ok.status, await ok.clone().text()).toBe(200);
      expect(await ok.json()).toEqual({ runId, status: 'RUNNING' });
      expect((await api(path, user, { approvalId, decision: 'approve' })).status).toBe(409);
      const call = await p.next((f) => f.type === 'agent.step' && f.runId === runId && f.kind === 'tool_call', { what: 'the edited call' });
      expect(call.data).toMatchObject({ arguments: { timezone: 'Asia/Tokyo' } });
      expect(await endOf(p, runId)).toMatchObject({ type: 'agent.message' });
    } finally {
      p.close();
    }
  });

  test("approver operator: the run's owner may not decide (403); an operator rejects and the model answers without the tool", async () => {
    const { p } = await open('ap-op');
    try {
      const { runId, asked } = await pausedTurn(p);
      const { approvalId } = approvalOf(asked);
      expect(approvalOf(asked).approver).toBe('operator');
      const path = `/api/v1/runs/${runId}/approval`;
      expect((await api(path, user, { approvalId, decision: 'approve' })).status).toBe(403);
      const res = await api(path, operator, { approvalId, decision: 'reject', reason: 'clock is private' });
      expect(res.status).toBe(200);
      const result = await p.next((f) => f.type === 'agent.step' && f.runId === runId && f.kind === 'tool_result', { what: 'the rejected result' });
      expect(result.data).toMatchObject({ ok: false, rejected: true, reason: 'clock is private' });
      const answer = await endOf(p, runId);
      expect(answer).toMatchObject({ type: 'agent.message' });
      expect(String(answer.text)).toContain('rejected: clock is private');
    } finally {
      p.close();
    }
  });

  test('a pause past its timeout fails the run (approval_timeout), live and as a status entry in the transcript', async () => {
    const { p, conversationId } = await open('ap-user');
    try {
      const { runId } = await pausedTurn(p);
      const end = await p.next((f) => f.type === 'agent.error' && f.runId === runId, { what: 'the timeout', timeoutMs: TIMEOUT_MS + 20_000 });
      expect(end).toMatchObject({ code: 'approval_timeout' });
      const res = await api(`/api/v1/conversations/${conversationId}/messages?limit=50`, user);
      const { messages } = (await res.json()) as { messages: HistoryMessage[] };
      expect(messages.filter((m) => m.role === 'status').map((m) => m.status)).toEqual([{ outcome: 'failed', code: 'approval_timeout', runId }]);
    } finally {
      p.close();
    }
  });
});
