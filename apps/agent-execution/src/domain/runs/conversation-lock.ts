import type { RedisClient } from '@parley/bus';
import { randomBytes } from 'node:crypto';
import { conversationLockKey, LEASE_RELEASE_SCRIPT, LEASE_RENEW_SCRIPT } from '@parley/contracts';

// The slow path of taking the lock, run only when SET NX found it held: the same run (a redelivered
// run taking over from its dead worker) takes it with its new grant; anyone else learns the holder.
// Only the taking is the lock's own: renewing and releasing are the platform's lease pair (contracts'
// lease.ts), compared against the whole `runId|token` value, so a grant superseded by a newer one of
// the same run cannot extend or drop it.
const TAKE_OVER = `
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return cur end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ''
`;
export interface LockGrant {
  /** Unique per grant (fencing compares the whole holder value for equality, so no order is needed). */
  token: string;
}

/**
 * One run at a time per conversation, across replicas. The lock names its holder (`runId|token`) so
 * a newcomer knows whom to interrupt, expires when its worker dies (no renewal), and carries a fencing
 * token unique to the grant: the run's conversation saves name the holder (`fence`) and the conversation service stores
 * them only while the lock still says so, in the same script as the write, so a worker that stalled
 * past its lease cannot write after another run took over.
 */
export class ConversationLock {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(conversationId: string): string {
    return conversationLockKey(this.prefix, conversationId);
  }

  /** The lock's value while this grant holds it: the `fence` of the run's conversation saves. */
  static holder(runId: string, grant: LockGrant): string {
    return `${runId}|${grant.token}`;
  }

  /** The grant, or the run id of the current holder. */
  async tryAcquire(conversationId: string, runId: string): Promise<LockGrant | { holder: string }> {
    const lock = this.key(conversationId);
    const grant = { token: randomBytes(12).toString('base64url') };
    const value = ConversationLock.holder(runId, grant);
    // A free conversation (nearly every turn) is one command; a held one takes the script.
    if ((await this.redis.set(lock, value, 'PX', this.ttlMs, 'NX')) === 'OK') return grant;
    const current = String(await this.redis.eval(TAKE_OVER, 1, lock, runId, value, this.ttlMs));
    if (current === '') return grant;
    return { holder: current.split('|')[0] ?? current };
  }

  async renew(conversationId: string, runId: string, grant: LockGrant): Promise<boolean> {
    const lock = this.key(conversationId);
    return (await this.redis.eval(LEASE_RENEW_SCRIPT, 1, lock, ConversationLock.holder(runId, grant), this.ttlMs)) === 1;
  }

  async release(conversationId: string, runId: string, grant: LockGrant): Promise<void> {
    const lock = this.key(conversationId);
    await this.redis.eval(LEASE_RELEASE_SCRIPT, 1, lock, ConversationLock.holder(runId, grant));
  }
}
