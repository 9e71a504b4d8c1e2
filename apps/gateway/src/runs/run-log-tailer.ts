/**
 * Reads runs' event logs (Redis streams written by agent-execution, see `runEventLogKey`) so that
 * any replica can resume a client or serve SSE. Runs are tailed by one RunLogReader per process on a
 * single node; on a Redis Cluster, where a multi-key XREAD must stay in one slot, by one reader per
 * run-log shard (RUN_LOG_SHARDS, each shard one slot), opened when a run of that shard is first watched.
 */
import type { Logger } from 'pino';
import type { RedisClient, RedisTarget } from '@parley/bus';
import { runEventLogKey, runLogShard, type RunEvent } from '@parley/contracts';
import { RunLogReader } from './run-log-reader.js';
import type { RunSubscription } from './run-subscription.js';

export type { RunSubscription } from './run-subscription.js';

export class RunLogTailer {
  private readonly readers = new Map<number, RunLogReader>();
  private closed = false;

  constructor(
    private readonly target: RedisTarget,
    private readonly cmd: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Events with seq > afterSeq, first those already logged, then live ones, until the run ends. */
  subscribe(runId: string, afterSeq: number, onEvent: (e: RunEvent) => void): RunSubscription {
    if (this.closed) throw new Error('run log tailer closed');
    return this.readerFor(runId).subscribe(runEventLogKey(this.prefix, runId), runId, afterSeq, onEvent);
  }

  watchedRuns(): number {
    let n = 0;
    for (const r of this.readers.values()) n += r.watchedRuns();
    return n;
  }

  /** Readers open (one on a single node; up to one per shard on a cluster). */
  readerCount(): number {
    return this.readers.size;
  }

  private readerFor(runId: string): RunLogReader {
    const group = this.cmd.isCluster ? runLogShard(runId) : 0;
    let reader = this.readers.get(group);
    if (!reader) {
      reader = new RunLogReader(this.target, this.cmd, this.log, `gateway:run-log-tailer:${group}`);
      this.readers.set(group, reader);
    }
    return reader;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.readers.values()].map((r) => r.close()));
  }
}
