/**
 * Counters and the pause switch live in Redis, not in a process: `get_stats` and `stop_loop` reach
 * one replica through the bus, yet must speak for (and act on) all of them.
 */
import type { MigrationStats } from '@parley/contracts';
import type { HotStore } from '@parley/conversation-store';
import type { RedisClient } from '@parley/bus';

export function migrationStatsKey(prefix: string): string {
  return `${prefix}:migration:stats`;
}

export function migrationPausedKey(prefix: string): string {
  return `${prefix}:migration:paused`;
}

export class MigrationCounters {
  private readonly statsKey: string;
  private readonly pausedKey: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly hot: HotStore,
  ) {
    this.statsKey = migrationStatsKey(hot.prefix);
    this.pausedKey = migrationPausedKey(hot.prefix);
  }

  /** Counted when the hot copy is deleted, so a copy repeated after a crash counts once. */
  async recordMigrated(conversations: number, messages: number): Promise<void> {
    await this.redis.pipeline().hincrby(this.statsKey, 'conversations', conversations).hincrby(this.statsKey, 'messages', messages).exec();
  }

  async recordFailed(n = 1): Promise<void> {
    await this.redis.hincrby(this.statsKey, 'failed', n);
  }

  async read(now: number): Promise<MigrationStats> {
    const [counts, pending, oldest] = await Promise.all([
      this.redis.hmget(this.statsKey, 'conversations', 'messages', 'failed'),
      this.hot.dueCount(now),
      this.hot.oldestDue(),
    ]);
    const n = (v: string | null | undefined) => Number(v ?? 0);
    return {
      migratedConversations: n(counts[0]),
      migratedMessages: n(counts[1]),
      failed: n(counts[2]),
      pending,
      oldestDueAgeMs: oldest && oldest.dueAt <= now ? Math.round(now - oldest.dueAt) : 0,
    };
  }

  async isPaused(): Promise<boolean> {
    return (await this.redis.exists(this.pausedKey)) === 1;
  }

  async setPaused(paused: boolean): Promise<void> {
    if (paused) await this.redis.set(this.pausedKey, '1');
    else await this.redis.del(this.pausedKey);
  }
}
