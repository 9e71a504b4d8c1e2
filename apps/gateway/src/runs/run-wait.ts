/**
 * `POST /api/v1/runs/wait`: the run's record once it ends, or as it stands when `timeoutMs` passes.
 * The end is heard on the run's event log (any replica's run, and a run started earlier under the same
 * Idempotency-Key); the record is read from agent-execution, the run's source of truth.
 */
import type { ActionMeta } from '@parley/bus';
import { StartRunRequest, type RunRecord, type RunStatus } from '@parley/contracts';
import { z } from 'zod';
import type { GatewayContext } from '../context.js';
import { followRun } from './run-follower.js';

export const DEFAULT_WAIT_MS = 30_000;
/** Bounded: a request held longer than this belongs on SSE or a webhook. */
export const MAX_WAIT_MS = 300_000;
const TimeoutMs = z.coerce.number().int().min(0).max(MAX_WAIT_MS);
export const WaitQuery = z.object({ timeoutMs: TimeoutMs.optional() });
export const StartAndWaitRequest = StartRunRequest.extend({ timeoutMs: TimeoutMs.optional() });

const FINAL: ReadonlySet<RunStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
export const isFinal = (s: RunStatus) => FINAL.has(s);

export async function waitForRun(ctx: GatewayContext, runId: string, timeoutMs: number, meta: ActionMeta): Promise<RunRecord> {
  const read = () => ctx.bus.call('agent.get_run', { runId }, meta);
  let ended = false;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      sub.close();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    // A run started earlier under the same Idempotency-Key may be older than its event log: its record tells the end.
    const sub = followRun(ctx, runId, 0, meta, (e) => {
      if (e.type === 'run.completed' || e.type === 'run.failed') {
        ended = true;
        done();
      }
    });
  });
  let record = await read();
  // The terminal event and the record's final write are two writes: give the record a moment to catch up.
  for (let i = 0; ended && !isFinal(record.status) && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 50));
    record = await read();
  }
  return record;
}
