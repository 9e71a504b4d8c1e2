/**
 * begin_turn builds its context from the append script's own snapshot while the indexes are
 * written: the same window get_context answers, and no answer before the indexes are.
 */
import { tenantIndexKey } from '@parley/conversation-store';
import { ActionError, type SaveMessage } from '@parley/contracts';
import { describe, expect } from 'vitest';
import { beginTurn } from './domain/begin-turn.js';
import { CONTEXT_TAIL } from './domain/context.js';
import { saveMessage } from './domain/save.js';
import { conversationTest as test, id, t1 } from './testing/harness.js';

type Msg = Omit<SaveMessage, 'messageId' | 'conversationId'>;

describe('conversation.begin_turn', () => {
  test('answers what get_context answers right after it, at every budget, tool calls kept with their results', async ({ h }) => {
    const c = id('c');
    const history: Msg[] = [
      { role: 'user', content: 'old question '.repeat(20) },
      { role: 'user', content: 'What time is it?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call-1', name: 'current_time', arguments: '{}' }] },
      { role: 'tool', content: '2026-01-01T10:00:00Z', toolCallId: 'call-1' },
      { role: 'assistant', content: 'It is 10:00.' },
    ];
    for (const m of history) await saveMessage(h.deps, t1, { messageId: id('m'), conversationId: c, ...m });
    const turn = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'And the date?' };
    const full = await h.bus.call('conversation.begin_turn', { ...turn, context: { maxTokens: 100_000 } }, t1);
    expect(full.context.messages.map((m) => m.role)).toEqual(['user', 'user', 'assistant', 'tool', 'assistant', 'user']);
    // Redeliveries of the same turn at shrinking budgets: the window of get_context, pairs whole or not at all.
    for (let maxTokens = full.context.tokenCount; maxTokens > 0; maxTokens -= 7) {
      const viaTurn = await h.bus.call('conversation.begin_turn', { ...turn, context: { maxTokens } }, t1).catch((e: unknown) => e);
      const viaGet = await h.bus.call('conversation.get_context', { conversationId: c, maxTokens }, t1).catch((e: unknown) => e);
      if (viaGet instanceof ActionError) expect((viaTurn as ActionError).code).toBe(viaGet.code);
      else expect((viaTurn as { context: unknown }).context).toEqual(viaGet);
    }
    expect((await h.bus.call('conversation.get', { conversationId: c }, t1)).messageCount).toBe(6);
  });

  test('reads past the tail the script returned, and through to the archive of a re-opened conversation', async ({ h }) => {
    const c = id('c');
    for (let i = 1; i <= CONTEXT_TAIL + 20; i++)
      await saveMessage(h.deps, t1, { messageId: id('m'), conversationId: c, role: i % 2 ? 'user' : 'assistant', content: `m${i}` });
    await h.archive(c);
    const turn = await h.bus.call(
      'conversation.begin_turn',
      { messageId: id('m'), conversationId: c, role: 'user', content: 'back again', context: { maxTokens: 100_000 } },
      t1,
    );
    expect(turn.saved).toMatchObject({ seq: CONTEXT_TAIL + 21, created: true });
    expect(turn.context.messages).toHaveLength(CONTEXT_TAIL + 21);
    expect(turn.context).toEqual(await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 100_000 }, t1));
    // Hot again, longer than the tail: the older hot messages are read on demand.
    for (let i = 0; i < CONTEXT_TAIL + 5; i++) await saveMessage(h.deps, t1, { messageId: id('m'), conversationId: c, role: 'assistant', content: `hot ${i}` });
    const next = await h.bus.call(
      'conversation.begin_turn',
      { messageId: id('m'), conversationId: c, role: 'user', content: 'last', context: { maxTokens: 100_000 } },
      t1,
    );
    expect(next.context.messages.map((m) => m.content).slice(-3)).toEqual([`hot ${CONTEXT_TAIL + 3}`, `hot ${CONTEXT_TAIL + 4}`, 'last']);
    expect(next.context).toEqual(await h.bus.call('conversation.get_context', { conversationId: c, maxTokens: 100_000 }, t1));
  });

  test('no reply before the tenant index is written: the worker retries, and the reply comes from the repaired redelivery', async ({ h, redis, prefix }) => {
    const c = id('c');
    const index = tenantIndexKey(prefix, t1.tenantId);
    // A wrong-typed key makes the index ZADD fail in the real Redis after the script stored the message.
    await redis.set(index, 'not a sorted set');
    const pending = h.bus.call(
      'conversation.begin_turn',
      { messageId: id('m'), conversationId: c, role: 'user', content: 'hello', context: { maxTokens: 4000 } },
      t1,
      { timeoutMs: 15_000 },
    );
    let answered = false;
    void pending.then(
      () => (answered = true),
      () => (answered = true),
    );
    const meta = h.deps.store.hot.keys(c).meta;
    while ((await redis.hget(meta, 'n')) !== '1') await new Promise((r) => setTimeout(r, 5));
    // Stored, index write failed: the caller still waits.
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    await redis.del(index);
    const reply = await pending;
    expect(reply.saved).toMatchObject({ seq: 1, created: false });
    expect(reply.context.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(Number(await redis.zscore(index, c))).toBe(Number(await redis.hget(meta, 'la')));
  });

  test('a context_too_small is not answered while the index write fails: the retryable failure wins', async ({ h, redis, prefix }) => {
    const c = id('c');
    const index = tenantIndexKey(prefix, t1.tenantId);
    await redis.set(index, 'not a sorted set');
    const turn = { messageId: id('m'), conversationId: c, role: 'user' as const, content: 'word '.repeat(400), context: { maxTokens: 120 } };
    const err = await beginTurn(h.deps, t1, turn).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ActionError);
    expect(String(err)).toMatch(/WRONGTYPE/);
    await redis.del(index);
    const final = await beginTurn(h.deps, t1, turn).catch((e: unknown) => e);
    expect((final as ActionError).code).toBe('context_too_small');
    expect(await redis.zscore(index, c)).not.toBeNull();
  });
});
