import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { pgTest as test, redisUrl, spawnTs, waitFor, type TsProcess } from '@parley/testing';
import { createBus } from '@parley/bus';
import { catalog, type RunEvent } from '@parley/contracts';

// No MODEL_BASE_URL: each worker (dev mode) starts its own scripted dev model server.
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('agent-execution crash recovery', () => {
  test(
    'a worker killed with SIGKILL mid-run: another replica takes the run over and it ends FAILED (worker_lost), never left RUNNING',
    { timeout: 90_000 },
    async ({ prefix, db, onTestFinished }) => {
      const procs: TsProcess[] = [];
      onTestFinished(async () => {
        await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      });
      const start = (name: string) => {
        const p = spawnTs(MAIN, { REDIS_URL: redisUrl, DATABASE_URL: db.url, BUS_PREFIX: prefix, INSTANCE_ID: name, LOG_LEVEL: 'info', HTTP_PORT: '0' });
        procs.push(p);
        return p;
      };
      const first = start(`agent-a-${randomUUID().slice(0, 6)}`);
      await first.waitForOutput('"ready"', 30_000);

      const caller = createBus({ catalog, redis: redisUrl, prefix, service: 'test' });
      onTestFinished(() => caller.close(500));
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      const runId = randomUUID();
      const events: RunEvent[] = [];
      const done = caller.call(
        'agent.run',
        { runId, input: { text: 'tell me a long story [[tokens:5000]] [[slow:20]]' }, channel: 'api' },
        { tenantId },
        { timeoutMs: 80_000, onEvent: (e) => events.push(e) },
      );
      await waitFor(() => events.filter((e) => e.type === 'run.token').length >= 5, { what: 'tokens streaming', timeoutMs: 20_000 });
      await first.kill('SIGKILL');

      const second = start(`agent-b-${randomUUID().slice(0, 6)}`);
      await second.waitForOutput('"ready"', 30_000);
      const result = await done;
      expect(result).toMatchObject({ runId, status: 'FAILED', error: { code: 'worker_lost' } });
      const last = events[events.length - 1];
      expect(last).toMatchObject({ type: 'run.failed', code: 'worker_lost' });
      // Numbering continued where the dead worker stopped: no gaps, no repeats.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const record = await caller.call('agent.get_run', { runId }, { tenantId });
      expect(record).toMatchObject({ status: 'FAILED', error: { code: 'worker_lost' } });
      expect(record.finishedAt).not.toBeNull();
    },
  );
});
