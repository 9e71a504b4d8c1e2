/**
 * Every turn leaves a trace: a turn that fails, is stopped or times out is saved as a `status` entry
 * with its reason, so GET of the conversation shows it after the fact, and the next turn's model
 * context does not contain it. Real services and an in-process gateway; the dev model fails, streams
 * slowly or hangs on request.
 */
import { describe, expect, test } from 'vitest';
import type { HistoryMessage } from '@parley/contracts';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { ask, wsProbe, type Frame, type WsProbe } from './support/ws-probe.js';

const platform = usePlatform('gwtrace', { gateway: {} });
const TENANT = 'trace';
const user = token({ sub: 'trace-user', tenant: TENANT });
const admin = token({ sub: 'trace-admin', tenant: TENANT, roles: ['admin'] });

async function open(): Promise<{ p: WsProbe; conversationId: string }> {
  const p = wsProbe(`${platform.gw.ws}?token=${user}&new=1`);
  const welcome = await p.welcome;
  await p.next((f) => f.type === 'history', { what: 'the handshake history' });
  return { p, conversationId: String(welcome.conversationId) };
}

async function send(p: WsProbe, text: string, agent?: string): Promise<string> {
  const id = `m-${Math.random().toString(36).slice(2)}`;
  const accepted = await ask(p, { type: 'chat.message', id, text, ...(agent ? { agent } : {}) }, (f) => f.type === 'chat.accepted' || f.type === 'error');
  expect(accepted.type, JSON.stringify(accepted)).toBe('chat.accepted');
  return String(accepted.runId);
}

const endOf = (p: WsProbe, runId: string): Promise<Frame> =>
  p.next((f) => (f.type === 'agent.message' || f.type === 'agent.error') && f.runId === runId, { what: `the end of run ${runId}`, timeoutMs: 60_000 });

async function messages(conversationId: string): Promise<HistoryMessage[]> {
  const res = await fetch(`${platform.gw.http}/api/v1/conversations/${conversationId}/messages?limit=200`, { headers: { authorization: `Bearer ${user}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: HistoryMessage[] }).messages;
}

describe('turns without an answer leave a status entry', () => {
  test('a failed, a stopped and a timed-out turn are in the transcript with their reason; the next turn sees none of them', async () => {
    const quick = await fetch(`${platform.gw.http}/api/v1/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        agentId: 'trace-quick',
        name: 'Quick',
        systemPrompt: 'You answer fast.',
        greeting: '',
        model: 'parley-dev',
        temperature: 0,
        tools: [],
        flow: 'chat',
        doubleTexting: 'enqueue',
        maxRunMs: 1_000,
      }),
    });
    expect(quick.status, await quick.text()).toBe(201);
    const { p, conversationId } = await open();
    try {
      const failed = await send(p, 'please fail [[fail:500]]');
      expect(await endOf(p, failed)).toMatchObject({ type: 'agent.error', code: 'model_error' });

      const stopped = await send(p, 'a long one [[slow:50]] [[tokens:400]]');
      await p.next((f) => f.type === 'agent.token' && f.runId === stopped, { what: 'the first token' });
      p.send({ type: 'chat.cancel', runId: stopped });
      expect(await endOf(p, stopped)).toMatchObject({ type: 'agent.error', code: 'cancelled' });

      const timedOut = await send(p, 'never answers [[hang]]', 'trace-quick');
      expect(await endOf(p, timedOut)).toMatchObject({ type: 'agent.error', code: 'timeout' });

      const ok = await send(p, 'and now a real answer [[tokens:3]]');
      expect(await endOf(p, ok)).toMatchObject({ type: 'agent.message' });

      const all = await messages(conversationId);
      const trace = all.filter((m) => m.role !== 'tool').map((m) => [m.role, m.role === 'status' ? m.status : m.content.split(' [[')[0]]);
      expect(trace).toEqual([
        ['user', 'please fail'],
        ['status', { outcome: 'failed', code: 'model_error', runId: failed }],
        ['user', 'a long one'],
        ['status', { outcome: 'cancelled', code: 'cancelled', runId: stopped }],
        ['user', 'never answers'],
        ['status', { outcome: 'timed_out', code: 'timeout', runId: timedOut }],
        ['user', 'and now a real answer'],
        ['assistant', expect.any(String)],
      ]);
      const failedEntry = all.find((m) => m.runId === failed && m.role === 'status')!;
      expect(failedEntry.content).toMatch(/^the model failed \(HTTP 500\)/);
      expect(all.find((m) => m.runId === timedOut && m.role === 'status')!.content).toContain('max run time of 1000 ms');

      // What the next turn's model gets besides its system prompt: the turns, and no status entry.
      const context = await platform.gw.gw.ctx.bus.call('conversation.get_context', { conversationId, maxTokens: 10_000 }, { tenantId: TENANT });
      expect(context.messages.map((m) => m.role)).toEqual(['user', 'user', 'user', 'user', 'assistant']);
      expect(context.messages.some((m) => m.content.includes('max run time') || m.content.includes('HTTP 500'))).toBe(false);
    } finally {
      p.close();
    }
  }, 120_000);
});
