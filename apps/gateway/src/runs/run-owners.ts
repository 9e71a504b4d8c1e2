/**
 * Who started a run (tenant + owner), kept by the gateway in its own keys: a run's event log carries
 * no tenant, so resume, SSE, cancel and reads check here before they touch anything. RunStarter
 * writes the record for every run it starts, whatever the channel. A run without one (expired) is
 * authorized from agent-execution's record, which keeps tenant and owner for good (see RunAccess).
 */
import { keyPart } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';
import { z } from 'zod';
import { sameOwner, type Actor, type Owner } from '../auth/access.js';

const Stored = z.union([
  z.object({ tenantId: z.string(), owner: z.object({ kind: z.enum(['user', 'contact']), id: z.string() }) }),
  // Records written before owners had a kind were all web or REST users.
  z.object({ tenantId: z.string(), userId: z.string() }).transform((r) => ({ tenantId: r.tenantId, owner: { kind: 'user' as const, id: r.userId } })),
]);
export interface RunOwner {
  tenantId: string;
  owner: Owner;
}

const TTL_S = 24 * 3600;

export class RunOwners {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(runId: string) {
    return `${this.prefix}:gw:run:{${keyPart(runId)}}:owner`;
  }

  /** Every part comes from input (token claims, a client's message id): each is encoded, so no two principals share a key. */
  private messageKey(actor: Actor, messageId: string) {
    return `${this.prefix}:gw:msg:{${keyPart(actor.tenantId)}}:${actor.owner.kind}:${keyPart(actor.owner.id)}:${keyPart(messageId)}`;
  }

  async record(runId: string, actor: Actor): Promise<void> {
    const value: RunOwner = { tenantId: actor.tenantId, owner: actor.owner };
    await this.redis.set(this.key(runId), JSON.stringify(value), 'EX', TTL_S);
  }

  async get(runId: string): Promise<RunOwner | null> {
    const raw = await this.redis.get(this.key(runId));
    if (!raw) return null;
    try {
      const parsed = Stored.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  /**
   * A client that resends a chat.message after a reconnect (same message id) gets the run it
   * already started instead of a second one. A fresh claim has its owner recorded too, written
   * alongside the claim (one round trip, not two on the way to the first token). A claim answers
   * an existing run only when that run is the same actor's: a claim never hands over another's run.
   */
  async claimMessage(actor: Actor, messageId: string, runId: string): Promise<{ runId: string; fresh: boolean } | { taken: true }> {
    const [set] = await Promise.all([this.redis.set(this.messageKey(actor, messageId), runId, 'EX', TTL_S, 'NX'), this.record(runId, actor)]);
    if (set === 'OK') return { runId, fresh: true };
    // The new run id will not be used: its owner record goes (it would only expire otherwise).
    void this.redis.del(this.key(runId)).catch(() => {
      /* an unused owner record expires on its own */
    });
    const existing = await this.redis.get(this.messageKey(actor, messageId));
    if (!existing) {
      // The claim expired in between: this run is fresh after all (commands on one connection run in order, after the del).
      await this.record(runId, actor);
      return { runId, fresh: true };
    }
    const owner = await this.get(existing);
    if (!owner || owner.tenantId !== actor.tenantId || !sameOwner(owner.owner, actor.owner)) return { taken: true };
    return { runId: existing, fresh: false };
  }

  /** Undoes a fresh claim whose run was refused before it started, so a resend is not taken for a duplicate. */
  async releaseMessage(actor: Actor, messageId: string, runId: string): Promise<void> {
    await Promise.all([this.redis.del(this.messageKey(actor, messageId)), this.redis.del(this.key(runId))]);
  }
}
