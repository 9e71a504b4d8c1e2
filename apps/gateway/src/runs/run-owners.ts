/**
 * Who started a run, kept by the gateway in its own keys: a run's event log carries no tenant, so
 * resume and SSE check here before they stream anything. Missing means "not started through a
 * gateway" (or expired); callers then ask agent-execution, which scopes runs by tenant.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Principal } from '../auth/verifier.js';
import { isAdmin } from '../auth/verifier.js';

const Owner = z.object({ tenantId: z.string(), userId: z.string() });
export type RunOwner = z.infer<typeof Owner>;

const TTL_S = 24 * 3600;

export class RunOwners {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(runId: string) {
    return `${this.prefix}:gw:run:{${runId}}:owner`;
  }

  private messageKey(p: Principal, messageId: string) {
    return `${this.prefix}:gw:msg:{${p.tenantId}}:${p.userId}:${messageId}`;
  }

  async record(runId: string, p: Principal): Promise<void> {
    await this.redis.set(this.key(runId), JSON.stringify({ tenantId: p.tenantId, userId: p.userId }), 'EX', TTL_S);
  }

  async get(runId: string): Promise<RunOwner | null> {
    const raw = await this.redis.get(this.key(runId));
    if (!raw) return null;
    const parsed = Owner.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  }

  /** true: may read; false: someone else's; null: unknown to the gateway. */
  async mayRead(runId: string, p: Principal): Promise<boolean | null> {
    const owner = await this.get(runId);
    if (!owner) return null;
    return owner.tenantId === p.tenantId && (owner.userId === p.userId || isAdmin(p));
  }

  /**
   * A client that resends a chat.message after a reconnect (same message id) gets the run it
   * already started instead of a second one. A fresh claim has its owner recorded too, written
   * alongside the claim (one round trip, not two on the way to the first token).
   */
  async claimMessage(p: Principal, messageId: string, runId: string): Promise<{ runId: string; fresh: boolean }> {
    const [set] = await Promise.all([this.redis.set(this.messageKey(p, messageId), runId, 'EX', TTL_S, 'NX'), this.record(runId, p)]);
    if (set === 'OK') return { runId, fresh: true };
    // The new run id will not be used: its owner record goes (it would only expire otherwise).
    void this.redis.del(this.key(runId)).catch(() => {});
    const existing = await this.redis.get(this.messageKey(p, messageId));
    return existing ? { runId: existing, fresh: false } : { runId, fresh: true };
  }

  /** Undoes a fresh claim whose run was refused before it started, so a resend is not taken for a duplicate. */
  async releaseMessage(p: Principal, messageId: string, runId: string): Promise<void> {
    await Promise.all([this.redis.del(this.messageKey(p, messageId)), this.redis.del(this.key(runId))]);
  }
}
