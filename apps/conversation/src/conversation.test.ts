/**
 * End to end through the bus: a real worker with the real handlers, a caller, Redis and a
 * PostgreSQL database of this file's own.
 */
import { createDb } from '@parley/db/client';
import { agents, tenants } from '@parley/db/schema';
import { createBus } from '@parley/bus';
import { catalog, conversationLockKey } from '@parley/contracts';
import { redisUrl } from '@parley/testing';
import { describe, expect, onTestFinished } from 'vitest';
import { createConversationDeps } from './wiring.js';
import { conversationHandlers } from './handlers/index.js';
import { conversationTest as test, errorOf, id, seed, t1, t2 } from './testing/harness.js';

describe('conversation.save_message', () => {
  test('creates the conversation on its first message and numbers messages', async ({ h }) => {
    const c = id('c');
    const first = await h.bus.call(
      'conversation.save_message',
      { messageId: 'm1-' + c, conversationId: c, role: 'user', content: 'Where is my order #123?', channel: 'web' },
      t1,
    );
    expect(first).toMatchObject({ conversationId: c, seq: 1, created: true });
    expect(first.tokenCount).toBeGreaterThan(5);
    const conv = await h.bus.call('conversation.get', { conversationId: c }, t1);
    expect(conv).toMatchObject({
      title: 'Where is my order #123?',
      status: 'open',
      archived: false,
      messageCount: 1,
      channel: 'web',
      sessionId: 'sess-1',
      userId: 'u1',
    });
  });

  test('is idempotent by message id: a retry and a bus redelivery store one message', async ({ h }) => {
    const c = id('c');
    const msg = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'hi' };
    const a = await h.bus.call('conversation.save_message', msg, { ...t1, actionId: 'act-1-' + c });
    const b = await h.bus.call('conversation.save_message', msg, { ...t1, actionId: 'act-1-' + c });
    const retry = await h.bus.call('conversation.save_message', msg, t1);
    expect(a.created).toBe(true);
    // The redelivery (same action id) and the retry (a new one) both find the message stored.
    expect(b).toEqual({ ...a, created: false });
    expect(retry).toEqual({ ...a, created: false });
    await h.bus.send('conversation.save_message', msg, t1);
    await h.bus.call('conversation.save_message', { ...msg, messageId: id('m') }, t1);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(2);
  });

  test('a fenced save is stored only while the run lock names its holder; nothing is stored otherwise', async ({ h, redis, prefix }) => {
    const c = id('c');
    const lock = conversationLockKey(prefix, c);
    const mine = 'run-a|7';
    // No lock at all (a run whose lock expired): refused, and the conversation is not even created.
    const early = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'hello', fence: mine };
    expect((await errorOf(h.bus.call('conversation.save_message', early, t1))).code).toBe('conflict');
    expect((await errorOf(h.bus.call('conversation.get', { conversationId: c }, t1))).code).toBe('not_found');
    await redis.set(lock, mine);
    expect(await h.bus.call('conversation.save_message', early, t1)).toMatchObject({ seq: 1, created: true });
    // Another run took the conversation over: the old holder's answer, and its next turn, are refused.
    await redis.set(lock, 'run-b|8');
    const late = { messageId: id('m'), conversationId: c, role: 'assistant' as const, content: 'too late', fence: mine };
    const refused = await errorOf(h.bus.call('conversation.save_message', late, t1));
    expect(refused).toMatchObject({ code: 'conflict', retryable: false });
    expect(refused.message).toContain('another run holds its lock');
    const turn = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'again', fence: mine, context: { maxTokens: 4000 } };
    expect((await errorOf(h.bus.call('conversation.begin_turn', turn, t1))).code).toBe('conflict');
    // A message already stored is answered as the duplicate it is, whoever holds the lock now.
    expect(await h.bus.call('conversation.save_message', early, t1)).toMatchObject({ seq: 1, created: false });
    // The new holder writes; saves without a fence are not checked.
    expect(await h.bus.call('conversation.save_message', { ...late, messageId: id('m'), fence: 'run-b|8' }, t1)).toMatchObject({ seq: 2 });
    expect(await h.bus.call('conversation.save_message', { ...late, messageId: id('m'), fence: undefined }, t1)).toMatchObject({ seq: 3 });
    const history = await h.bus.call('conversation.get_history', { conversationId: c, limit: 10 }, t1);
    expect(history.messages.map((m) => m.content)).toEqual(['hello', 'too late', 'too late']);
  });

  test('bad input is refused: oversize content and invalid role by the bus, tool without call id by the service', async ({ h }) => {
    const c = id('c');
    const big = await errorOf(
      h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'user', content: 'x'.repeat(100_001) }, t1),
    );
    expect(big.code).toBe('invalid_payload');
    const role = await errorOf(h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'robot' as 'user', content: 'x' }, t1));
    expect(role.code).toBe('invalid_payload');
    const tool = await errorOf(h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'tool', content: '42' }, t1));
    expect(tool.code).toBe('invalid_payload');
  });
});

describe('redelivery after a crash', () => {
  test('a worker that dies after storing but before replying: the redelivery answers the same seq, one row', async ({ prefix, redis, db }) => {
    // Same stream, with a short visibility timeout so the crashed entry is reclaimed in well under a second.
    const def = catalog['conversation.save_message'];
    const fast = { ...catalog, 'conversation.save_message': { ...def, delivery: { ...def.delivery, visibilityTimeoutMs: 300 } } };
    const deps = createConversationDeps(redis, db.pool, prefix, { hot: { idleMs: 60_000, ttlMs: 86_400_000 }, db: { poolMax: 2 } });
    const handlers = conversationHandlers(deps);
    let crashes = 0;
    const worker = createBus({ catalog: fast, redis: redisUrl, prefix, service: 'conversation', instance: 'crashy' });
    worker.handle('conversation', {
      ...handlers,
      'conversation.save_message': async (data, ctx) => {
        const reply = await handlers['conversation.save_message'](data, ctx);
        if (ctx.attempt === 1) {
          crashes += 1;
          throw new Error('simulated crash after the save, before the reply');
        }
        return reply;
      },
    });
    const bus = createBus({ catalog, redis: redisUrl, prefix, service: 'test', instance: 'caller2' });
    onTestFinished(async () => {
      await bus.close(100);
      await worker.close(200);
    });
    const c = id('c');
    const reply = await bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'user', content: 'once' }, t1, {
      timeoutMs: 10_000,
    });
    expect(crashes).toBe(1);
    expect(reply).toMatchObject({ seq: 1, created: false });
    expect((await deps.store.hot.getMeta(c))?.messageCount).toBe(1);
  });
});

describe('conversation.begin_turn', () => {
  test('saves the message and answers the context ending with it; the first one creates the conversation', async ({ h }) => {
    const c = id('c');
    const first = await h.bus.call(
      'conversation.begin_turn',
      { messageId: id('m'), conversationId: c, role: 'user', content: 'Where is my order?', channel: 'web', context: { maxTokens: 4000 } },
      t1,
    );
    expect(first.saved).toMatchObject({ conversationId: c, seq: 1, created: true });
    expect(first.context.messages).toEqual([{ role: 'user', content: 'Where is my order?' }]);
    await h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'assistant', content: 'It ships today.' }, t1);
    const second = await h.bus.call(
      'conversation.begin_turn',
      { messageId: id('m'), conversationId: c, role: 'user', content: 'Thanks!', context: { maxTokens: 4000 } },
      t1,
    );
    expect(second.saved.seq).toBe(3);
    expect(second.context.messages.map((m) => m.content)).toEqual(['Where is my order?', 'It ships today.', 'Thanks!']);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(3);
  });

  test('a retry or redelivery saves the message once and answers the same context', async ({ h }) => {
    const c = id('c');
    const turn = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'once', context: { maxTokens: 4000 } };
    const a = await h.bus.call('conversation.begin_turn', turn, { ...t1, actionId: 'bt-' + c });
    const b = await h.bus.call('conversation.begin_turn', turn, { ...t1, actionId: 'bt-' + c });
    expect(a.saved.created).toBe(true);
    expect(b.saved).toEqual({ ...a.saved, created: false });
    expect(b.context).toEqual(a.context);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(1);
  });

  test('bad input loses nothing: an invalid message or a budget the message cannot fit is refused', async ({ h }) => {
    const c = id('c');
    const noBudget = await errorOf(
      h.bus.call('conversation.begin_turn', { messageId: id('m'), conversationId: c, role: 'user', content: 'hi', context: { maxTokens: 0 } }, t1),
    );
    expect(noBudget.code).toBe('invalid_payload');
    const tool = await errorOf(
      h.bus.call('conversation.begin_turn', { messageId: id('m'), conversationId: c, role: 'tool', content: '42', context: { maxTokens: 4000 } }, t1),
    );
    expect(tool.code).toBe('invalid_payload');
    expect((await errorOf(h.bus.call('conversation.get', { conversationId: c }, t1))).code).toBe('not_found');
    // Saved, then refused: the message stays, and the answer says why the context could not be built.
    const tight = await errorOf(
      h.bus.call(
        'conversation.begin_turn',
        { messageId: id('m'), conversationId: c, role: 'user', content: 'word '.repeat(400), context: { maxTokens: 120 } },
        t1,
      ),
    );
    expect(tight.code).toBe('context_too_small');
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(1);
  });
});

describe('tenancy', () => {
  test("an unknown or another tenant's conversation is not found, for every action", async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 2);
    const unknown = id('nope');
    for (const [target, meta] of [
      [unknown, t1],
      [c, t2],
    ] as const) {
      const calls: Array<() => Promise<unknown>> = [
        () => h.bus.call('conversation.get', { conversationId: target }, meta),
        () => h.bus.call('conversation.get_context', { conversationId: target, maxTokens: 1000 }, meta),
        () => h.bus.call('conversation.session_closed', { conversationId: target }, meta),
      ];
      if (target === c) {
        calls.push(() => h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'user', content: 'hijack' }, meta));
        calls.push(() =>
          h.bus.call('conversation.begin_turn', { messageId: id('m'), conversationId: c, role: 'user', content: 'hijack', context: { maxTokens: 1000 } }, meta),
        );
      }
      for (const call of calls) expect((await errorOf(call())).code).toBe('not_found');
      // History answers "no conversation" as a reply, the same for an unknown id and another tenant's.
      expect(await h.bus.call('conversation.get_history', { conversationId: target }, meta)).toEqual({ conversationId: null, messages: [], hasMore: false });
    }
    expect((await h.bus.call('conversation.list', {}, t2)).items).toEqual([]);
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(2);
  });
});

describe('conversation.get_context', () => {
  test("holds the turns only: no system prompt, the whole budget for them (the agent's prompt is agent-execution's)", async ({ h, db }) => {
    // An agent with a prompt exists: the conversation service must neither send it nor count it.
    const pg = createDb(db.pool);
    await pg.insert(tenants).values({ id: 't1', name: 'Tenant one' }).onConflictDoNothing();
    await pg
      .insert(agents)
      .values({
        tenantId: 't1',
        id: 'support',
        spec: {
          name: 'Support',
          systemPrompt: 'You are Acme support. '.repeat(100),
          greeting: '',
          model: 'gpt-4o-mini',
          temperature: 0.3,
          tools: [],
          flow: 'chat',
          doubleTexting: 'enqueue',
          maxRunMs: 60_000,
        },
      })
      .onConflictDoNothing();
    const c = id('c');
    await seed(h.bus, c, 3);
    const ctx = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 4000 }, t1);
    expect(ctx.messages.map((m) => m.content)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(ctx.truncated).toBe(false);
    const turns = (await h.bus.call('conversation.get_history', { conversationId: c }, t1)).messages.reduce((n, m) => n + m.tokenCount, 0);
    expect(ctx.tokenCount).toBe(turns);
    // A budget of exactly the turns fits them all.
    expect((await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: turns }, t1)).truncated).toBe(false);
  });

  test('budget edges: exact fit, one token less, smaller than the last message', async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 4);
    await h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, role: 'user', content: 'a long question '.repeat(50) }, t1);
    const full = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 100_000 }, t1);
    const exact = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: full.tokenCount }, t1);
    expect(exact).toEqual(full);
    expect(exact.truncated).toBe(false);
    const less = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: full.tokenCount - 1 }, t1);
    expect(less.truncated).toBe(true);
    expect(less.messages.length).toBe(full.messages.length - 1);
    expect(less.tokenCount).toBeLessThan(full.tokenCount);
    const small = await errorOf(h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 60 }, t1));
    expect(small.code).toBe('context_too_small');
  });

  test('a tool call is never separated from its result', async ({ h }) => {
    const c = id('c');
    const save = (m: Record<string, unknown>) => h.bus.call('conversation.save_message', { messageId: id('m'), conversationId: c, ...m } as never, t1);
    await save({ role: 'user', content: 'old question '.repeat(20) });
    await save({ role: 'user', content: 'What time is it?' });
    await save({ role: 'assistant', content: '', toolCalls: [{ id: 'call-1', name: 'current_time', arguments: '{}' }] });
    await save({ role: 'tool', content: '2026-01-01T10:00:00Z', toolCallId: 'call-1' });
    const answer = await save({ role: 'assistant', content: 'It is 10:00.' });
    const full = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 100_000 }, t1);
    // Budget that fits everything but the oldest message: the call and its result stay together.
    const oldest = (await h.bus.call('conversation.get_history', { conversationId: c }, t1)).messages[0]!.tokenCount;
    const ctx = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: full.tokenCount - oldest }, t1);
    expect(ctx.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(ctx.messages[1]?.toolCalls?.[0]?.id).toBe('call-1');
    expect(ctx.messages[2]?.toolCallId).toBe('call-1');
    // One token less: the question cannot be kept behind the pair, so the call fails rather than drop it.
    const err = await errorOf(h.bus.call('conversation.get_context', { conversationId: c, maxTokens: full.tokenCount - oldest - 1 }, t1));
    expect(err.code).toBe('context_too_small');
    expect(answer.seq).toBe(5);
  });

  test('reads through to the archive when the hot copy is gone or re-opened', async ({ h }) => {
    const c = id('c');
    await seed(h.bus, c, 6);
    const before = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 4000 }, t1);
    await h.archive(c);
    expect(await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 4000 }, t1)).toEqual(before);
    await seed(h.bus, c, 1);
    const after = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 4000 }, t1);
    expect(after.messages.map((m) => m.content)).toEqual([...before.messages.map((m) => m.content), 'message 1']);
  });
});
