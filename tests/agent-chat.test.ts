import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { pgTest as test, redisUrl, spawnTs, type TsProcess } from '@parley/testing';
import { createBus } from '@parley/bus';
import { catalog, type RunEvent } from '@parley/contracts';

// agent-execution (with its own scripted dev model: no MODEL_BASE_URL) and conversation, as processes.
describe('agent-execution with the conversation service', () => {
  test(
    'chat runs save the user message, tool turns and the answer in order; double texts on two replicas never interleave',
    { timeout: 90_000 },
    async ({ prefix, db, onTestFinished }) => {
      const env = { REDIS_URL: redisUrl, DATABASE_URL: db.url, BUS_PREFIX: prefix, LOG_LEVEL: 'info', HTTP_PORT: '0' };
      const procs: TsProcess[] = [
        spawnTs('apps/conversation/src/main.ts', env),
        spawnTs('apps/agent-execution/src/main.ts', env),
        spawnTs('apps/agent-execution/src/main.ts', env),
      ];
      onTestFinished(async () => {
        await Promise.all(procs.map((p) => p.kill('SIGTERM')));
      });
      await Promise.all(procs.map((p) => p.waitForOutput('"ready"', 30_000)));
      const caller = createBus({ catalog, redis: redisUrl, prefix, service: 'test' });
      onTestFinished(() => caller.close(500));
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      const conversationId = randomUUID();
      const chat = (text: string, messageId = randomUUID()) => {
        const events: RunEvent[] = [];
        const runId = randomUUID();
        return caller
          .call(
            'agent.run',
            { runId, conversationId, input: { text, messageId }, channel: 'web' },
            { tenantId },
            { timeoutMs: 30_000, onEvent: (e) => events.push(e) },
          )
          .then((result) => ({ result, events, runId, messageId }));
      };

      const first = await chat('My name is Ada and I like turtles');
      expect(first.result.status).toBe('SUCCEEDED');
      expect(
        first.events
          .filter((e) => e.type === 'run.token')
          .map((e) => (e.type === 'run.token' ? e.delta : ''))
          .join(''),
      ).toBe(first.result.text);

      const second = await chat('What time is it?');
      expect(second.result.status).toBe('SUCCEEDED');
      expect(second.events.some((e) => e.type === 'run.step' && e.kind === 'tool_call' && e.name === 'current_time')).toBe(true);

      // Two messages at once (default policy: enqueue), on two replicas: whole runs, one after the other.
      const [a, b] = await Promise.all([chat('first of two [[slow:5]]'), chat('second of two [[slow:5]]')]);
      expect([a.result.status, b.result.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);

      const history = await caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
      const roles = history.messages.map((m) => m.role);
      expect(roles.slice(0, 2)).toEqual(['user', 'assistant']);
      expect(history.messages[0]).toMatchObject({ messageId: first.messageId, content: 'My name is Ada and I like turtles' });
      expect(history.messages[1]).toMatchObject({ role: 'assistant', content: first.result.text, runId: first.runId });
      // The tool turn is kept with its result, then the answer.
      expect(roles.slice(2, 6)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      // The double texts: each run's user message is followed by its own answer.
      const rest = history.messages.slice(6);
      expect(rest.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(rest[0]!.runId).toBe(rest[1]!.runId);
      expect(rest[2]!.runId).toBe(rest[3]!.runId);
      expect(new Set([rest[1]!.runId, rest[3]!.runId])).toEqual(new Set([a.runId, b.runId]));

      // Usage was recorded on the run and on the assistant message.
      const record = await caller.call('agent.get_run', { runId: first.runId }, { tenantId });
      expect(record.usage!.totalTokens).toBeGreaterThan(0);
      const runs = await caller.call('agent.list_runs', { conversationId, limit: 10 }, { tenantId });
      expect(runs.items).toHaveLength(4);
    },
  );
});
