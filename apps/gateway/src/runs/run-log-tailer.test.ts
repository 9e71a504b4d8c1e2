import { pino } from 'pino';
import { describe, expect } from 'vitest';
import { encodeRunLogEntry, runEventLogKey, runLogShard, RUN_LOG_SHARDS, type RunEvent } from '@parley/contracts';
import { redisModeTest as test } from '@parley/testing';
import { RunLogTailer } from './run-log-tailer.js';

// Runs in the single-node and the cluster test projects (vitest.config.ts CLUSTER_FILES).
const log = pino({ level: 'silent' });
const at = 1_700_000_000_000;
const token = (runId: string, seq: number): RunEvent => ({ type: 'run.token', runId, seq, at, delta: `t${seq}` });
const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2 };
const done = (runId: string, seq: number): RunEvent => ({ type: 'run.completed', runId, seq, at, usage });

/** Run ids covering every shard, as the writer would name them. */
function runIdsOverShards(): string[] {
  const byShard = new Map<number, string>();
  for (let i = 0; byShard.size < RUN_LOG_SHARDS; i++) {
    const id = `01938a2b-0000-7000-8000-${String(i).padStart(12, '0')}`;
    if (!byShard.has(runLogShard(id))) byShard.set(runLogShard(id), id);
  }
  return [...byShard.values()];
}

function collect(tailer: RunLogTailer, runId: string, afterSeq: number): { events: RunEvent[]; ended: Promise<void> } {
  const events: RunEvent[] = [];
  let end!: () => void;
  const ended = new Promise<void>((r) => (end = r));
  tailer.subscribe(runId, afterSeq, (e) => {
    events.push(e);
    if (e.type === 'run.completed') end();
  });
  return { events, ended };
}

describe('run log tailer', () => {
  test('runs on every shard are followed live at once, each in order to its end', async ({ redis, target, prefix }) => {
    const tailer = new RunLogTailer(target, redis, prefix, log);
    try {
      const ids = runIdsOverShards();
      const followed = ids.map((id) => collect(tailer, id, 0));
      for (const id of ids) {
        const key = runEventLogKey(prefix, id);
        await redis.xadd(key, '*', ...encodeRunLogEntry([token(id, 1), token(id, 2)]));
        await redis.xadd(key, '*', ...encodeRunLogEntry([done(id, 3)]));
      }
      await Promise.all(followed.map((f) => f.ended));
      for (const [i, f] of followed.entries()) expect(f.events.map((e) => `${e.runId}:${e.seq}`)).toEqual([1, 2, 3].map((s) => `${ids[i]}:${s}`));
      expect(tailer.readerCount()).toBe(redis.isCluster ? RUN_LOG_SHARDS : 1);
      expect(tailer.watchedRuns()).toBe(0);
    } finally {
      await tailer.close();
    }
  });

  test('a resume after seq 2 gets the logged rest once, then the live events', async ({ redis, target, prefix }) => {
    const tailer = new RunLogTailer(target, redis, prefix, log);
    try {
      const [id, other] = runIdsOverShards();
      const key = runEventLogKey(prefix, id!);
      await redis.xadd(key, '*', ...encodeRunLogEntry([token(id!, 1), token(id!, 2), token(id!, 3)]));
      // Another run's reader is already blocked when this run is added.
      const first = collect(tailer, other!, 0);
      const resumed = collect(tailer, id!, 2);
      await redis.xadd(key, '*', ...encodeRunLogEntry([token(id!, 4)]));
      await redis.xadd(key, '*', ...encodeRunLogEntry([done(id!, 5)]));
      await resumed.ended;
      expect(resumed.events.map((e) => e.seq)).toEqual([3, 4, 5]);
      await redis.xadd(runEventLogKey(prefix, other!), '*', ...encodeRunLogEntry([done(other!, 1)]));
      await first.ended;
      expect(first.events.map((e) => e.seq)).toEqual([1]);
    } finally {
      await tailer.close();
    }
  });
});
