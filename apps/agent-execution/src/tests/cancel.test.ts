import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { pgTest as test, redisUrl, spawnTs, waitFor, type TsProcess } from '@parley/testing';
import { createBus } from '@parley/bus';
import { catalog, type RunEvent } from '@parley/contracts';

// agent-execution as processes (its own scripted dev model): the cancel reaches the replica that runs the run.
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('agent.cancel across processes', () => {
  test(
    'a run streaming on one of two agent-execution processes is cancelled from a third process',
    { timeout: 60_000 },
    async ({ prefix, db, onTestFinished }) => {
      const env = { REDIS_URL: redisUrl, DATABASE_URL: db.url, BUS_PREFIX: prefix, LOG_LEVEL: 'info', HTTP_PORT: '0' };
      const procs: TsProcess[] = [spawnTs(MAIN, env), spawnTs(MAIN, env)];
      onTestFinished(async () => {
        await Promise.all(procs.map((p) => p.kill('SIGTERM')));
      });
      await Promise.all(procs.map((p) => p.waitForOutput('"ready"', 30_000)));
      const caller = createBus({ catalog, redis: redisUrl, prefix, service: 'test' });
      onTestFinished(() => caller.close(500));
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      const runId = randomUUID();
      const events: RunEvent[] = [];
      const done = caller.call(
        'agent.run',
        { runId, input: { text: 'a long answer please [[tokens:2000]] [[slow:10]]' }, channel: 'web' },
        { tenantId },
        { timeoutMs: 40_000, onEvent: (e) => events.push(e) },
      );
      await waitFor(() => events.filter((e) => e.type === 'run.token').length >= 5, { what: 'tokens streaming', timeoutMs: 20_000 });
      const cancelledAt = Date.now();
      expect(await caller.call('agent.cancel', { runId }, { tenantId })).toEqual({ runId, cancelled: true });
      const result = await done;
      expect(Date.now() - cancelledAt).toBeLessThan(2_000);
      expect(result).toMatchObject({ status: 'CANCELLED', error: { code: 'cancelled' } });
      expect(events[events.length - 1]).toMatchObject({ type: 'run.failed', status: 'CANCELLED', code: 'cancelled' });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(await caller.call('agent.get_run', { runId }, { tenantId })).toMatchObject({ status: 'CANCELLED' });
    },
  );
});
