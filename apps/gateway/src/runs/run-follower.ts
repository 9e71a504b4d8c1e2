/**
 * Following a run for SSE, WS `resume` and `POST /runs/wait`: its event log through the tailer while the log
 * lives, and once it has expired (RUN_EVENT_LOG_TTL_MS after the run's end) its record, which agent-execution
 * keeps for good with the steps, final text and terminal seq: replayed as events (run-replay.ts), then the
 * end. A run with no log that is not finished (a crashed worker, a run not started yet) is left to the tailer,
 * which delivers whatever is logged later.
 */
import type { ActionMeta } from '@parley/bus';
import { runEventLogKey, type RunEvent } from '@parley/contracts';
import type { GatewayContext } from '../context.js';
import type { RunSubscription } from './run-subscription.js';
import { eventsOfRecord } from './run-replay.js';

type Ctx = Pick<GatewayContext, 'tailer' | 'redis' | 'bus' | 'base' | 'log'>;

const isEnd = (e: RunEvent) => e.type === 'run.completed' || e.type === 'run.failed';

/** Events with seq > afterSeq, each once and in order, until the run's terminal event or close(). */
export function followRun(ctx: Ctx, runId: string, afterSeq: number, meta: ActionMeta, onEvent: (e: RunEvent) => void): RunSubscription {
  let lastSeq = afterSeq;
  let done = false;
  const deliver = (e: RunEvent) => {
    if (done || e.seq <= lastSeq) return;
    lastSeq = e.seq;
    if (isEnd(e)) done = true;
    onEvent(e);
  };
  const sub = ctx.tailer.subscribe(runId, afterSeq, deliver);

  const fromRecord = async () => {
    if ((await ctx.redis.exists(runEventLogKey(ctx.base.busPrefix, runId))) > 0) return;
    const record = await ctx.bus.call('agent.get_run', { runId }, meta, { timeoutMs: 5_000 });
    if (done || (record.status !== 'SUCCEEDED' && record.status !== 'FAILED' && record.status !== 'CANCELLED')) return;
    sub.close();
    // Seqs at or before what was delivered (or Last-Event-ID) are skipped by deliver.
    for (const e of eventsOfRecord(record)) deliver(e);
  };
  fromRecord().catch((err: unknown) => ctx.log.warn({ err, runId }, 'run record read for an expired event log failed; following the log only'));

  return {
    runId,
    get lastSeq() {
      return lastSeq;
    },
    close() {
      done = true;
      sub.close();
    },
  };
}
