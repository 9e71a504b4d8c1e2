import { describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { ParleyClient, type RunFrame } from '../packages/client/src/index.js';
import { rawSocket, startGateway, token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('gwchat', { gateway: { WS_MAX_TEXT_CHARS: '100', WS_MAX_FRAME_BYTES: '2048' } });

const client = (sub = 'u1', extra: Partial<ConstructorParameters<typeof ParleyClient>[0]> = {}) =>
  new ParleyClient({ url: platform.gw.ws, token: () => token({ sub }), ...extra });

async function collect(run: AsyncIterable<RunFrame>): Promise<RunFrame[]> {
  const out: RunFrame[] = [];
  for await (const f of run) out.push(f);
  return out;
}

describe('gateway chat over WebSocket (real services, dev model)', () => {
  test('a full chat turn streams tokens, then the message; history shows it on reconnect', async () => {
    const c = client('alice');
    const { welcome, history } = await c.connect();
    expect(welcome.user).toMatchObject({ id: 'alice', tenantId: 't1' });
    expect(welcome.limits.maxTextChars).toBe(100);
    expect(history).toMatchObject({ conversationId: welcome.conversationId, messages: [] });

    const run = await c.chat('hello there [[tokens:12]]');
    const frames = await collect(run);
    const tokens = frames.filter((f) => f.type === 'agent.token');
    const last = frames.at(-1);
    // Streamed: the first token at once, the rest in frames of at most one per token window
    // (RUN_TOKEN_WINDOW_MS); together exactly the answer.
    expect(tokens.length).toBeGreaterThan(1);
    expect(last?.type).toBe('agent.message');
    if (last?.type !== 'agent.message') return;
    expect(last.text).toBe(tokens.map((t) => (t.type === 'agent.token' ? t.delta : '')).join(''));
    const seqs = frames.flatMap((f) => (f.type === 'agent.error' ? [] : [f.seq]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    c.close();

    const again = client('alice', { conversationId: welcome.conversationId });
    const second = await again.connect();
    expect(second.welcome.conversationId).toBe(welcome.conversationId);
    expect(second.history.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(second.history.messages[1]?.content).toBe(last.text);
    again.close();
  });

  test('malformed frames get error frames and never close the socket', async () => {
    const s = rawSocket(`${platform.gw.ws}?token=${token({ sub: 'mallory' })}`);
    await s.opened;
    await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'history on connect' });
    const sendAndExpect = async (data: string | Buffer, code: string) => {
      const before = s.frames.length;
      s.ws.send(data);
      const f = await waitFor(() => s.frames.slice(before).find((x) => x.type === 'error'), { what: `error ${code}` });
      expect(f.code).toBe(code);
    };
    await sendAndExpect('not json', 'bad_json');
    await sendAndExpect('{"type":"launch.missiles"}', 'unknown_type');
    await sendAndExpect('[1,2,3]', 'unknown_type');
    await sendAndExpect(JSON.stringify({ type: 'chat.message', id: 'x' }), 'invalid_payload');
    await sendAndExpect(JSON.stringify({ type: 'chat.message', id: 'x', text: 'y'.repeat(101) }), 'text_too_long');
    await sendAndExpect(JSON.stringify({ type: 'ping', pad: 'z'.repeat(4096) }), 'payload_too_large');
    await sendAndExpect(Buffer.from([0xff, 0x00, 0x12]), 'bad_frame');
    const before = s.frames.length;
    s.ws.send(JSON.stringify({ type: 'ping', t: 42 }));
    await waitFor(() => s.frames.slice(before).find((f) => f.type === 'pong' && f.t === 42), { what: 'pong' });
    expect(s.ws.readyState).toBe(1);
    s.ws.close();
  });

  test('a message refused before its run started is not taken for a duplicate when sent again', async () => {
    const owner = client('owner-of-it');
    const { welcome } = await owner.connect();
    await (await owner.chat('mine')).result();
    owner.close();
    const s = rawSocket(`${platform.gw.ws}?token=${token({ sub: 'retrier' })}`);
    await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'history on connect' });
    s.ws.send(JSON.stringify({ type: 'chat.message', id: 'again-1', text: 'hi', conversationId: welcome.conversationId }));
    expect(await waitFor(() => s.frames.find((f) => f.type === 'error'), { what: 'refusal' })).toMatchObject({ code: 'not_found', ref: 'again-1' });
    // The same message id to the socket's own conversation: a run starts and answers (before the
    // claim was given back, the resend followed a run that never existed and no answer came).
    s.ws.send(JSON.stringify({ type: 'chat.message', id: 'again-1', text: 'hi [[tokens:3]]' }));
    expect(await waitFor(() => s.frames.find((f) => f.type === 'agent.message'), { what: 'the answer' })).toBeTruthy();
    s.ws.close();
  });

  test('closing the socket mid-run does not cancel it: the answer is saved and shows in history', async () => {
    const c = client('bob');
    const { welcome } = await c.connect();
    const run = await c.chat('tell me slowly [[slow:20]] [[tokens:15]]');
    c.close();
    const again = client('bob', { conversationId: welcome.conversationId });
    await waitFor(
      async () => {
        const h = await again.connect().then((r) => r.history);
        again.close();
        return h.messages.some((m) => m.role === 'assistant' && m.runId === run.runId);
      },
      { timeoutMs: 15_000, intervalMs: 300, what: 'assistant answer in history' },
    );
  });

  test('history.get pages and conversation.new starts an empty conversation', async () => {
    const c = client('carol');
    const { welcome } = await c.connect();
    await (await c.chat('one')).result();
    await (await c.chat('two')).result();
    const page = await c.history({ limit: 2 });
    expect(page.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(page.hasMore).toBe(true);
    const fresh = await c.newConversation();
    expect(fresh.conversationId).not.toBe(welcome.conversationId);
    expect(fresh.messages).toEqual([]);
    c.close();
  });

  test('cancel ends a run with agent.error cancelled', async () => {
    const c = client('dave');
    await c.connect();
    const run = await c.chat('long one [[slow:50]] [[tokens:200]]');
    for await (const f of run) {
      if (f.type === 'agent.token') {
        run.cancel();
        break;
      }
    }
    await expect(run.result()).rejects.toMatchObject({ code: 'cancelled' });
    c.close();
  });

  test("another user's conversation is refused with 4403", async () => {
    const c = client('erin');
    const { welcome } = await c.connect();
    await (await c.chat('mine')).result();
    c.close();
    const s = rawSocket(`${platform.gw.ws}?token=${token({ sub: 'frank' })}&conversationId=${welcome.conversationId}`);
    expect((await s.closed).code).toBe(4403);
  });

  test('an idle socket is closed with 4408', async () => {
    // Long enough that a loaded host finishes the socket's set-up (welcome, resume) well inside it.
    const idle = await startGateway(platform.prefix, { WS_IDLE_TIMEOUT_MS: '1500' });
    try {
      const s = rawSocket(`${idle.ws}?token=${token({ sub: 'sleepy' })}`);
      await s.opened;
      const started = Date.now();
      expect((await s.closed).code).toBe(4408);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    } finally {
      await idle.close();
    }
  });
});
