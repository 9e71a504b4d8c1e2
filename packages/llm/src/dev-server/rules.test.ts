import { describe, expect, it } from 'vitest';
import { planReply } from './rules.js';
import type { ChatCompletionRequest, WireTool } from './schemas.js';

const tool = (name: string, description: string, properties: Record<string, unknown> = {}): WireTool => ({
  type: 'function',
  function: { name, description, parameters: { type: 'object', properties } },
});
const TOOLS = [
  tool('current_time', 'Returns the current date and time', { timezone: { type: 'string' } }),
  tool('search_knowledge', 'Searches the knowledge base', { query: { type: 'string' } }),
  tool('handoff_to_human', 'Hands the conversation to a human operator', { reason: { type: 'string' } }),
];
const req = (messages: ChatCompletionRequest['messages'], tools = TOOLS): ChatCompletionRequest => ({ model: 'parley-dev', messages, tools });

describe('dev model rules', () => {
  it.each([
    ['What time is it?', 'current_time'],
    ['¿Qué hora es?', 'current_time'],
    ['Search the docs for refunds', 'search_knowledge'],
    ['What is the warranty period for laptops?', 'search_knowledge'],
    ['I want to talk to a human', 'handoff_to_human'],
  ])('%s → %s', (text, name) => {
    const plan = planReply(req([{ role: 'user', content: text }]));
    expect(plan.script.kind === 'tool_calls' && plan.script.calls.map((c) => c.name)).toEqual([name]);
  });

  it('answers in words when no tool topic is named, and the same way every time', () => {
    const a = planReply(req([{ role: 'user', content: 'hello there' }]));
    expect(a.script).toEqual(planReply(req([{ role: 'user', content: 'hello there' }])).script);
    expect(a.script.kind === 'text' && a.script.text).toMatch(/^You said: "hello there"\./);
  });

  it('quotes the tool result once the call is answered', () => {
    const plan = planReply(
      req([
        { role: 'user', content: 'Search the docs for refunds' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search_knowledge', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'Refunds within 30 days.' },
      ]),
    );
    expect(plan.script).toEqual({ kind: 'text', text: 'Here is what I found. search_knowledge returned: "Refunds within 30 days.".' });
  });

  it('builds arguments from the message, and calls several tools in a row or at once', () => {
    const text = 'Search the docs and tell me the time';
    const plan = planReply(req([{ role: 'user', content: text }]));
    expect(plan.script.kind === 'tool_calls' && plan.script.calls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['search_knowledge', { query: text }],
    ]);
    const parallel = planReply(req([{ role: 'user', content: `${text} [[parallel]]` }]));
    expect(parallel.script.kind === 'tool_calls' && parallel.script.calls.map((c) => c.name)).toEqual(['search_knowledge', 'current_time']);
  });

  it('answers with the system prompt on [[system]]', () => {
    const plan = planReply(
      req(
        [
          { role: 'system', content: 'You sell boats.' },
          { role: 'user', content: 'hi [[system]]' },
        ],
        [],
      ),
    );
    expect(plan.script).toEqual({ kind: 'text', text: 'System prompt: "You sell boats."' });
  });

  it('reads magic words and strips them from the text', () => {
    const plan = planReply(req([{ role: 'user', content: 'hi [[fail:429:2]] [[slow:5]]' }], []));
    expect(plan.magic).toEqual({ fail: { status: 429, times: 2 }, slowMs: 5 });
    expect(plan.script.kind === 'text' && plan.script.text).toMatch(/^You said: "hi"\./);
  });
});
