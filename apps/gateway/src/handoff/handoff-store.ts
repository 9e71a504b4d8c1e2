/**
 * Who handles each web conversation (contracts/handoff.ts), in Redis so every gateway replica reads
 * the same answer: one hash per conversation (absent = the bot's), and a per-tenant sorted set of the
 * conversations not handled by the bot, for the operators' queue. Every change of hands is one Lua
 * script on the conversation's hash, so two operators taking the same conversation at once get one
 * winner and one refusal naming the winner.
 */
import { Handoff, handoffKey, handoffQueueKey, type HumanAgent } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';

/** Sets `waiting` unless a person already waits or holds it; answers the state after the call. */
const WAIT = `
local state = redis.call('HGET', KEYS[1], 'state')
if state then return state end
redis.call('HSET', KEYS[1], 'state', 'waiting', 'tenantId', ARGV[1], 'since', ARGV[2], 'userId', ARGV[3], 'reason', ARGV[4])
return 'set'`;

/** Takes the conversation for ARGV[3] unless someone else holds it: 'taken', or the holder's id and name. */
const TAKE = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'holderId', 'holderName')
if cur[1] == 'human' and cur[2] ~= ARGV[3] then return {cur[2], cur[3]} end
if cur[1] == 'human' then return 'again' end
redis.call('HSET', KEYS[1], 'state', 'human', 'tenantId', ARGV[1], 'since', ARGV[2], 'holderId', ARGV[3], 'holderName', ARGV[4], 'userId', ARGV[5])
return 'taken'`;

/** Gives the conversation back to the bot if ARGV[1] holds it: 'released', or what it is instead. */
const RELEASE = `
local cur = redis.call('HMGET', KEYS[1], 'state', 'holderId')
if cur[1] ~= 'human' then return cur[1] or 'bot' end
if cur[2] ~= ARGV[1] then return 'other' end
redis.call('DEL', KEYS[1])
return 'released'`;

export type TakeResult = { ok: true; again: boolean; handoff: Handoff } | { ok: false; holder: HumanAgent };
export type ReleaseResult = { ok: true } | { ok: false; reason: 'not_held' | 'other_holder' };

export class HandoffStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  /** The conversation's record for this tenant; null = the bot's (or another tenant's: ids are global). */
  async get(tenantId: string, conversationId: string): Promise<Handoff | null> {
    const h = await this.redis.hgetall(handoffKey(this.prefix, conversationId));
    if (h['tenantId'] !== tenantId || !h['state']) return null;
    const parsed = Handoff.safeParse({
      conversationId,
      state: h['state'],
      since: h['since'],
      ...(h['userId'] ? { userId: h['userId'] } : {}),
      ...(h['reason'] ? { reason: h['reason'] } : {}),
      ...(h['holderId'] ? { holder: { id: h['holderId'], name: h['holderName'] ?? h['holderId'] } } : {}),
    });
    return parsed.success ? parsed.data : null;
  }

  /** Puts the conversation in the queue; false when a person already waits for or holds it (nothing changes). */
  async wait(tenantId: string, conversationId: string, userId: string, reason: string): Promise<{ changed: boolean; handoff: Handoff | null }> {
    const since = new Date().toISOString();
    const r = await this.redis.eval(WAIT, 1, handoffKey(this.prefix, conversationId), tenantId, since, userId, reason);
    // The queue is in the tenant's slot, not the conversation's: written after the hash, idempotently.
    await this.redis.zadd(handoffQueueKey(this.prefix, tenantId), Date.parse(since), conversationId);
    return { changed: r === 'set', handoff: await this.get(tenantId, conversationId) };
  }

  async take(tenantId: string, conversationId: string, holder: HumanAgent, userId: string): Promise<TakeResult> {
    const since = new Date().toISOString();
    const r = await this.redis.eval(TAKE, 1, handoffKey(this.prefix, conversationId), tenantId, since, holder.id, holder.name, userId);
    if (Array.isArray(r)) return { ok: false, holder: { id: String(r[0]), name: String(r[1] ?? r[0]) } };
    await this.redis.zadd(handoffQueueKey(this.prefix, tenantId), Date.parse(since), conversationId);
    const handoff = await this.get(tenantId, conversationId);
    if (!handoff) throw new Error(`handoff of ${conversationId} vanished right after it was taken`);
    return { ok: true, again: r === 'again', handoff };
  }

  async release(tenantId: string, conversationId: string, holderId: string): Promise<ReleaseResult> {
    const r = await this.redis.eval(RELEASE, 1, handoffKey(this.prefix, conversationId), holderId);
    if (r === 'released') {
      await this.redis.zrem(handoffQueueKey(this.prefix, tenantId), conversationId);
      return { ok: true };
    }
    return { ok: false, reason: r === 'other' ? 'other_holder' : 'not_held' };
  }

  /** The tenant's queue, oldest first; entries whose hash is gone (handed back) are dropped from it. */
  async list(tenantId: string, limit: number): Promise<Handoff[]> {
    const ids = await this.redis.zrange(handoffQueueKey(this.prefix, tenantId), 0, limit - 1);
    const found = await Promise.all(ids.map((id) => this.get(tenantId, id)));
    const gone = ids.filter((_, i) => found[i] === null);
    if (gone.length > 0) await this.redis.zrem(handoffQueueKey(this.prefix, tenantId), ...gone);
    return found.filter((h): h is Handoff => h !== null);
  }
}
