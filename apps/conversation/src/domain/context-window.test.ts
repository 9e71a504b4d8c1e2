import type { MessageRole, ToolCall } from '@parley/contracts';
import type { StoredMessage } from '@parley/conversation-store';
import { describe, expect, test } from 'vitest';
import { fromArray, selectWindow } from './context-window.js';

let seq = 0;
function m(role: MessageRole, tokenCount: number, extra: { toolCalls?: ToolCall[]; toolCallId?: string } = {}): StoredMessage {
  seq += 1;
  return { seq, messageId: `m${seq}`, role, content: `${role} ${seq}`, tokenCount, createdAt: 0, ...extra };
}
const call = (id: string): ToolCall => ({ id, name: 'search', arguments: '{}' });

/** Runs the selection over a conversation given oldest first; returns the roles kept. */
async function window(conversation: StoredMessage[], budget: number) {
  return selectWindow(fromArray(conversation.slice().reverse()), budget);
}

describe('context window', () => {
  test('everything fits exactly: nothing truncated', async () => {
    const conv = [m('user', 10), m('assistant', 20), m('user', 5)];
    expect(await window(conv, 35)).toEqual({ ok: true, messages: conv, tokenCount: 35, truncated: false });
  });

  test('one token short: the oldest message goes first (FIFO)', async () => {
    const conv = [m('user', 10), m('assistant', 20), m('user', 5)];
    expect(await window(conv, 34)).toMatchObject({ ok: true, messages: conv.slice(1), tokenCount: 25, truncated: true });
  });

  test('no hole: a smaller older message is not taken after a bigger one did not fit', async () => {
    const conv = [m('user', 1), m('assistant', 50), m('user', 5)];
    expect(await window(conv, 30)).toMatchObject({ ok: true, messages: conv.slice(2), truncated: true });
  });

  test('a tool call and its results are kept or dropped together', async () => {
    const ask = m('user', 5);
    const calling = m('assistant', 10, { toolCalls: [call('a'), call('b')] });
    const r1 = m('tool', 30, { toolCallId: 'a' });
    const r2 = m('tool', 30, { toolCallId: 'b' });
    const answer = m('assistant', 10);
    const conv = [m('user', 3), ask, calling, r1, r2, answer];
    // The pair costs 70: with 84 tokens the whole block and the question fit, the first message does not.
    expect(await window(conv, 85)).toMatchObject({ ok: true, messages: [ask, calling, r1, r2, answer], tokenCount: 85, truncated: true });
    // With less than the block, the window stops after the answer: the question is older than the block.
    expect(await window(conv, 60)).toMatchObject({ ok: false });
  });

  test('tool results without their call are never sent', async () => {
    const conv = [m('tool', 5, { toolCallId: 'x' }), m('user', 5), m('assistant', 5)];
    expect(await window(conv, 100)).toMatchObject({ ok: true, messages: conv.slice(1), truncated: true });
  });

  test('a pending tool call (results not saved yet) is kept alone', async () => {
    const conv = [m('user', 5), m('assistant', 5, { toolCalls: [call('z')] })];
    expect(await window(conv, 100)).toMatchObject({ ok: true, messages: conv, truncated: false });
  });

  test('a budget smaller than the newest user message fails', async () => {
    const conv = [m('assistant', 5), m('user', 40)];
    const res = await window(conv, 39);
    expect(res.ok).toBe(false);
    expect(res.ok ? '' : res.reason).toMatch(/newest user message does not fit/);
  });

  test('a budget smaller than the last (assistant) message fails when the user message is behind it', async () => {
    expect((await window([m('user', 5), m('assistant', 100)], 50)).ok).toBe(false);
  });

  test('without any user message, whatever fits is returned', async () => {
    const conv = [m('system', 5), m('assistant', 100)];
    expect(await window(conv, 50)).toMatchObject({ ok: true, messages: [], truncated: true });
  });

  test('an empty conversation is an empty window', async () => {
    expect(await window([], 10)).toEqual({ ok: true, messages: [], tokenCount: 0, truncated: false });
  });
});
