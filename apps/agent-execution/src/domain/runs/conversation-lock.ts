import type { RedisClient } from '@parley/bus';
import { conversationFenceKey, conversationLockKey, LEASE_RELEASE_SCRIPT, LEASE_RENEW_SCRIPT } from '@parley/contracts';

// Takes the lock when it is free or already held by the same run (a redelivered run taking over
// from its dead worker); every grant gets a new fencing token from a counter that only grows. Only
// the taking is the lock's own: renewing and releasing are the platform's lease pair (contracts'
// lease.ts), compared against the whole `runId|token` value, so a grant superseded by a newer one of
// the same run cannot extend or drop it.
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return {0, cur} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
return {token, ''}
`;
export interface LockGrant {
  token: number;
}

/**
 * One run at a time per conversation, across replicas. The lock names its holder (`runId|token`) so
 * a newcomer knows whom to interrupt, expires when its worker dies (no renewal), and carries a fencing
 * token: the run's conversation saves name the holder (`fence`) and the conversation service stores
 * them only while the lock still says so, in the same script as the write, so a worker that stalled
 * past its lease cannot write after another run took over.
 */
export class ConversationLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private keys(conversationId: string): [string, string] {
    return [conversationLockKey(this.prefix, conversationId), conversationFenceKey(this.prefix, conversationId)];
  }

  /** The lock's value while this grant holds it: the `fence` of the run's conversation saves. */
  static holder(runId: string, grant: LockGrant): string {
    return `${runId}|${grant.token}`;
  }

  /** The grant, or the run id of the current holder. */
  async tryAcquire(conversationId: string, runId: string): Promise<LockGrant | { holder: string }> {
    const [lock, fence] = this.keys(conversationId);
    const [token, current] = (await this.redis.eval(ACQUIRE, 2, lock, fence, runId, this.ttlMs)) as [number, string];
    if (token > 0) return { token };
    return { holder: current.split('|')[0] ?? current };
  }

  async renew(conversationId: string, runId: string, grant: LockGrant): Promise<boolean> {
    const [lock] = this.keys(conversationId);
    return (await this.redis.eval(LEASE_RENEW_SCRIPT, 1, lock, ConversationLock.holder(runId, grant), this.ttlMs)) === 1;
  }

  async release(conversationId: string, runId: string, grant: LockGrant): Promise<void> {
    const [lock] = this.keys(conversationId);
    await this.redis.eval(LEASE_RELEASE_SCRIPT, 1, lock, ConversationLock.holder(runId, grant));
  }
}
