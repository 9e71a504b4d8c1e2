import type { ChainableCommander } from 'ioredis';
import { slotGroup, type RedisClient } from './connection.js';

/**
 * Explicit pipelines that a cluster accepts: one per hash slot of the keys they touch (a cluster
 * client refuses a pipeline across slots). On a single node every key is in group 0, so it is one pipeline.
 */
export class SlotPipelines {
  private readonly bySlot = new Map<number, ChainableCommander>();

  constructor(private readonly redis: RedisClient) {}

  for(key: string): ChainableCommander {
    const slot = slotGroup(this.redis, key);
    let p = this.bySlot.get(slot);
    if (!p) {
      p = this.redis.pipeline();
      this.bySlot.set(slot, p);
    }
    return p;
  }

  /** Sends every pipeline; resolves when all have answered (a failed command does not reject). */
  async exec(): Promise<void> {
    await Promise.all([...this.bySlot.values()].map((p) => p.exec()));
  }
}
