/** Hand-off entries of a web conversation through the bus: what the model reads and what people read back. */
import { describe, expect } from 'vitest';
import { conversationTest as test, id, t1 } from './testing/harness.js';

describe('roles human_agent and handoff', () => {
  test("an operator's message reaches the model as the assistant's; markers reach people only", async ({ h }) => {
    const c = id('c');
    const ana = { id: 'ana', name: 'Ana' };
    const save = (messageId: string, role: 'user' | 'assistant' | 'human_agent' | 'handoff', content: string, handoff?: object) =>
      h.bus.call(
        'conversation.save_message',
        { messageId, conversationId: c, role, content, channel: 'web', ...(handoff ? { metadata: { handoff } } : {}) },
        t1,
      );
    await save(id('m'), 'user', 'I want a person');
    await save(id('m'), 'handoff', 'Waiting for a person', { event: 'waiting' });
    const joined = await save(id('m'), 'handoff', 'Ana joined', { event: 'joined', agent: ana });
    expect(joined.tokenCount).toBe(0);
    await save(id('m'), 'human_agent', 'Hi, Ana here. Your refund is on its way.', { agent: ana });
    await save(id('m'), 'handoff', 'Ana left', { event: 'left', agent: ana });
    await save(id('m'), 'user', 'thanks');

    const ctx = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 4_000 }, t1);
    expect(ctx.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'I want a person'],
      ['assistant', 'Hi, Ana here. Your refund is on its way.'],
      ['user', 'thanks'],
    ]);

    const history = await h.bus.call('conversation.get_history', { conversationId: c, limit: 50 }, t1);
    expect(history.messages.map((m) => [m.role, m.handoff])).toEqual([
      ['user', undefined],
      ['handoff', { event: 'waiting' }],
      ['handoff', { event: 'joined', agent: ana }],
      ['human_agent', { agent: ana }],
      ['handoff', { event: 'left', agent: ana }],
      ['user', undefined],
    ]);
  });
});
