// What a real gateway cannot be made to do on cue: answer late, after the client gave up on a request.
// A scripted socket stands in for it; the end-to-end behaviour is in tests/client-reconnect.test.ts.
import { describe, expect, test } from 'vitest';
import { DeliveredToPersonError, ParleyClient, RequestTimeoutError } from './index.js';
import type { MinimalWebSocket, WebSocketCtor } from './transport.js';

type Listener = (ev: never) => void;

class ScriptedSocket implements MinimalWebSocket {
  static last: ScriptedSocket | null = null;
  readyState = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  private readonly listeners = new Map<string, Listener[]>();
  constructor(readonly url: string) {
    ScriptedSocket.last = this;
    queueMicrotask(() => {
      this.readyState = 1;
      this.serve({
        type: 'welcome',
        sessionId: 's1',
        user: { id: 'u', tenantId: 't', roles: [] },
        conversationId: 'c1',
        agent: { id: 'a', name: 'A' },
        limits: { maxFrameBytes: 1, maxTextChars: 1, messagesPerMinute: 1 },
      });
      this.serve({ type: 'history', conversationId: 'c1', messages: [], hasMore: false });
    });
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }
  close(): void {
    this.readyState = 3;
    this.emit('close', { code: 1000, reason: '' });
  }
  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  serve(frame: Record<string, unknown>): void {
    this.emit('message', { data: JSON.stringify(frame) });
  }
  private emit(type: string, ev: unknown): void {
    for (const l of this.listeners.get(type) ?? []) (l as (e: unknown) => void)(ev);
  }
}

describe('ParleyClient request bookkeeping', () => {
  test('the late answer to a timed-out request does not settle the next request of its kind', async () => {
    const c = new ParleyClient({ url: 'ws://test/ws/chat', token: 't', requestTimeoutMs: 50, WebSocket: ScriptedSocket as unknown as WebSocketCtor });
    await c.connect();
    const socket = ScriptedSocket.last as ScriptedSocket;

    await expect(c.history({ conversationId: 'old' })).rejects.toBeInstanceOf(RequestTimeoutError);
    const next = c.history({ conversationId: 'new' });
    socket.serve({ type: 'history', conversationId: 'old', messages: [], hasMore: false }); // the first one's answer, late
    socket.serve({ type: 'history', conversationId: 'new', messages: [], hasMore: false });
    expect((await next).conversationId).toBe('new');
    expect(socket.sent.map((f) => f['conversationId'])).toEqual(['old', 'new']);
    c.close();
  });

  test('a message delivered to a person (no run) rejects chat() with DeliveredToPersonError', async () => {
    const c = new ParleyClient({ url: 'ws://test/ws/chat', token: 't', WebSocket: ScriptedSocket as unknown as WebSocketCtor });
    await c.connect();
    const socket = ScriptedSocket.last as ScriptedSocket;
    const sent = c.chat('anyone there?');
    const id = socket.sent.at(-1)?.['id'] as string;
    socket.serve({ type: 'chat.delivered', id, conversationId: 'c1', messageId: id });
    await expect(sent).rejects.toBeInstanceOf(DeliveredToPersonError);
    c.close();
  });

  test("a run's frames read together with its chat.accepted reach the run's stream", async () => {
    const c = new ParleyClient({ url: 'ws://test/ws/chat', token: 't', WebSocket: ScriptedSocket as unknown as WebSocketCtor });
    await c.connect();
    const socket = ScriptedSocket.last as ScriptedSocket;
    const started = c.chat('hi');
    const id = socket.sent.at(-1)?.['id'];
    // One read of the socket: every frame's message event fires before the client's awaits resume.
    socket.serve({ type: 'chat.accepted', id, runId: 'r1', conversationId: 'c1' });
    socket.serve({ type: 'agent.token', runId: 'r1', seq: 1, delta: 'Hel' });
    socket.serve({ type: 'agent.token', runId: 'r1', seq: 2, delta: 'lo' });
    socket.serve({
      type: 'agent.message',
      runId: 'r1',
      seq: 3,
      messageId: 'm1',
      text: 'Hello',
      usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 },
    });
    const run = await started;
    const frames: string[] = [];
    for await (const f of run) frames.push(f.type);
    expect(frames).toEqual(['agent.token', 'agent.token', 'agent.message']);
    expect((await run.result()).text).toBe('Hello');
    c.close();
  });
});
