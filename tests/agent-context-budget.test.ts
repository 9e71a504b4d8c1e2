// The context budget is spent once: agent-execution puts its agent's system prompt first and asks the
// conversation service for the rest of CONTEXT_MAX_TOKENS in turns; the conversation service answers
// turns only. agent-execution and conversation in-process on the real bus, Redis, a test database and
// the dev model server, which counts the prompt it receives with the platform's tokenizer.
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { createBus } from '@parley/bus';
import { catalog } from '@parley/contracts';
import { countChatTokens, countMessageTokens } from '../packages/llm/src/tokens.js';
import { pgTest as test, redisUrl } from '@parley/testing';
import { startHarness } from '../apps/agent-execution/src/testing/harness.js';
import { createConversationDeps } from '../apps/conversation/src/wiring.js';
import { conversationHandlers } from '../apps/conversation/src/handlers/index.js';

/** A system prompt of exactly `tokens` tokens as a chat message costs them. */
function promptOf(tokens: number, model: string): string {
  let words = tokens;
  for (;;) {
    const content = 'policy '.repeat(words).trim();
    const n = countMessageTokens({ role: 'system', content }, model);
    if (n === tokens) return content;
    words += tokens - n;
  }
}

describe('agent.run context budget', () => {
  test('a 1,000-token system prompt and a 4,000-token budget: the model receives ~3,000 tokens of history', async ({ prefix, db, redis, onTestFinished }) => {
    const worker = createBus({ catalog, redis: redisUrl, prefix, service: 'conversation', instance: `conv-${prefix}` });
    worker.handle(
      'conversation',
      conversationHandlers(createConversationDeps(redis, db.pool, prefix, { hot: { idleMs: 60_000, ttlMs: 86_400_000 }, db: { poolMax: 5 } })),
      { concurrency: 8 },
    );
    onTestFinished(() => worker.close(500));
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const h = await startHarness({ prefix, db, tenantId, vars: { CONTEXT_MAX_TOKENS: '4000' } });
    const meta = { tenantId };

    const [agent] = (await h.caller.call('agent.list_agents', {}, meta)).agents;
    const model = agent!.model;
    const system = promptOf(1_000, model);
    // No tools: the model's prompt is the system prompt and the history, nothing else.
    await h.caller.call('agent.update_agent', { agentId: agent!.agentId, systemPrompt: system, tools: [] }, meta);

    // ~6,000 tokens of history in ~50-token turns: more than the window can hold.
    const conversationId = randomUUID();
    for (let i = 0; i < 120; i++) {
      const role = i % 2 === 0 ? 'user' : 'assistant';
      await h.caller.call('conversation.save_message', { messageId: randomUUID(), conversationId, role, content: `turn ${i}: ${'history '.repeat(44)}` }, meta);
    }

    const { result } = await h.run(
      { runId: randomUUID(), conversationId, input: { text: 'What did we talk about?', messageId: randomUUID() }, channel: 'web' },
      meta,
    );
    expect(result.status).toBe('SUCCEEDED');
    // The dev model server reports the prompt it was sent, counted like the platform counts.
    const history = result.usage!.promptTokens - countChatTokens([{ role: 'system', content: system }], model);
    expect(history).toBeGreaterThan(2_900);
    expect(history).toBeLessThanOrEqual(3_000);
  });
});
