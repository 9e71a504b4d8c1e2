import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { pgTest as test, redisUrl, spawnTs, waitFor, type TsProcess } from '@parley/testing';
import { createBus } from '@parley/bus';
import { catalog, type RunEvent, type RunRecord } from '@parley/contracts';

// No MODEL_BASE_URL: each worker (dev mode) starts its own scripted dev model server.
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

describe('agent-execution approvals across restarts', () => {
  test(
    'a run paused for an approval survives its process: stopped while paused, approved afterwards, resumed and answered by a new process',
    { timeout: 90_000 },
    async ({ prefix, db, onTestFinished }) => {
      const procs: TsProcess[] = [];
      onTestFinished(async () => {
        await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      });
      const start = async (name: string) => {
        const p = spawnTs(MAIN, { REDIS_URL: redisUrl, DATABASE_URL: db.url, BUS_PREFIX: prefix, INSTANCE_ID: name, LOG_LEVEL: 'info', HTTP_PORT: '0' });
        procs.push(p);
        await p.waitForOutput('"ready"', 30_000);
        return p;
      };
      const first = await start(`agent-a-${randomUUID().slice(0, 6)}`);

      const caller = createBus({ catalog, redis: redisUrl, prefix, service: 'test' });
      onTestFinished(() => caller.close(500));
      const tenantId = `t-${randomUUID().slice(0, 8)}`;
      await caller.call('agent.update_agent', { agentId: 'default', requiresApproval: ['current_time'] }, { tenantId, roles: ['admin'] });
      const runId = randomUUID();
      const events: RunEvent[] = [];
      const paused = await caller.call(
        'agent.run',
        { runId, input: { text: 'What time is it?' }, channel: 'api' },
        { tenantId, userId: 'alice' },
        { timeoutMs: 30_000, onEvent: (e) => events.push(e) },
      );
      expect(paused).toMatchObject({ runId, status: 'PAUSED' });
      const asked = events.find((e) => e.type === 'run.step' && e.name === 'approval_requested');
      const approvalId = (asked?.type === 'run.step' ? (asked.data as { approvalId: string }) : { approvalId: '' }).approvalId;

      // The process that paused the run goes away; the run is not lost (no worker_lost), it waits.
      await first.kill('SIGTERM');
      await start(`agent-b-${randomUUID().slice(0, 6)}`);
      expect(await caller.call('agent.get_run', { runId }, { tenantId })).toMatchObject({ status: 'PAUSED', approval: { approvalId, tool: 'current_time' } });
      expect(await caller.call('agent.decide_approval', { runId, approvalId, decision: 'approve' }, { tenantId, userId: 'alice' })).toMatchObject({
        status: 'RUNNING',
      });
      let record: RunRecord | undefined;
      await waitFor(
        async () => {
          record = await caller.call('agent.get_run', { runId }, { tenantId });
          return record.status !== 'RUNNING' && record.status !== 'PAUSED';
        },
        { what: 'the resumed run to end', timeoutMs: 30_000 },
      );
      expect(record).toMatchObject({ status: 'SUCCEEDED' });
      expect(record?.text).toContain('current_time returned');
      expect(record?.steps?.map((s) => `${s.kind}:${s.name}`)).toEqual(['log:approval_requested', 'tool_call:current_time', 'tool_result:current_time']);
    },
  );
});
