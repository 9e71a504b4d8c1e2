/**
 * Sockets per user, counted across every gateway replica: a sorted set per user whose scores are
 * lease expiries. Replicas renew their sockets' leases, so the sockets of a replica that died
 * stop counting once their leases run out instead of locking the user out forever.
 */
import { keyPart } from '@parley/contracts';
import { SlotPipelines, type RedisClient } from '@parley/bus';

const ACQUIRE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

export interface Lease {
  key: string;
  socketId: string;
}

export class ConnectionRegistry {
  private readonly leases = new Set<Lease>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly max: number,
    private readonly leaseMs = 90_000,
  ) {
    this.timer = setInterval(() => void this.renew(), Math.floor(leaseMs / 3));
    this.timer.unref();
  }

  private key(tenantId: string, userId: string) {
    return `${this.prefix}:gw:conns:{${keyPart(tenantId)}}:${keyPart(userId)}`;
  }

  /** null when the user already holds `max` sockets. */
  async acquire(tenantId: string, userId: string, socketId: string): Promise<Lease | null> {
    const key = this.key(tenantId, userId);
    const ok = await this.redis.eval(ACQUIRE, 1, key, Date.now(), this.leaseMs, this.max, socketId);
    if (ok !== 1) return null;
    const lease = { key, socketId };
    this.leases.add(lease);
    return lease;
  }

  async release(lease: Lease): Promise<void> {
    if (!this.leases.delete(lease)) return;
    await this.redis.zrem(lease.key, lease.socketId).catch(() => {
      /* a lease not renewed stops counting after leaseMs */
    });
  }

  private async renew(): Promise<void> {
    if (this.leases.size === 0) return;
    const until = Date.now() + this.leaseMs;
    // One pipeline per hash slot: users' keys spread over a cluster's slots (one pipeline on a single node).
    const pipes = new SlotPipelines(this.redis);
    for (const l of this.leases) {
      pipes.for(l.key).zadd(l.key, 'XX', until, l.socketId).pexpire(l.key, this.leaseMs);
    }
    await pipes.exec().catch(() => {
      /* a missed renewal is retried on the next tick */
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
