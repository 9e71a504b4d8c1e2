import type { RedisClient } from '@parley/bus';
import type { Logger } from 'pino';

/** Why a run was stopped from outside; carried as the AbortSignal's reason. */
export type StopReason = { kind: 'cancelled' } | { kind: 'interrupted'; by: string } | { kind: 'timeout'; afterMs: number } | { kind: 'shutdown' };

export class RunStopped extends Error {
  constructor(readonly reason: StopReason) {
    super(reason.kind);
    this.name = 'RunStopped';
  }
}

const CANCEL_TTL_MS = 24 * 3600_000;

/**
 * Cancels a run wherever it runs. `cancel` leaves a mark (`…:run:{id}:cancel`, for a run that has not
 * started yet or a replica that missed the message) and publishes the run id; every replica listens
 * on one channel and aborts the run if it holds it. Pub/sub alone would lose a cancel sent while the
 * run was still queued in the stream; the mark alone would need polling.
 */
export class CancelHub {
  private readonly local = new Map<string, AbortController>();
  private readonly channel: string;
  private started = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.channel = `${prefix}:agent:cancel`;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const parsed = parseMessage(message);
      if (parsed) this.abortLocal(parsed.runId, parsed.reason);
    });
    await this.subscriber.subscribe(this.channel);
  }

  private markKey(runId: string): string {
    return `${this.prefix}:agent:run:{${runId}}:cancel`;
  }

  /** Registers a run this process executes; returns its controller. */
  track(runId: string): AbortController {
    const controller = new AbortController();
    this.local.set(runId, controller);
    return controller;
  }

  /** Only its own controller: a duplicate delivery ending early must not untrack the run still going. */
  untrack(runId: string, controller: AbortController): void {
    if (this.local.get(runId) === controller) this.local.delete(runId);
  }

  /** A cancel that arrived before the run started. */
  async requested(runId: string): Promise<StopReason | null> {
    const raw = await this.redis.get(this.markKey(runId));
    return raw ? (parseMessage(`${runId} ${raw}`)?.reason ?? { kind: 'cancelled' }) : null;
  }

  async cancel(runId: string, reason: StopReason = { kind: 'cancelled' }): Promise<void> {
    const encoded = reason.kind === 'interrupted' ? `interrupted:${reason.by}` : 'cancelled';
    this.abortLocal(runId, reason);
    await this.redis.set(this.markKey(runId), encoded, 'PX', CANCEL_TTL_MS);
    await this.redis.publish(this.channel, `${runId} ${encoded}`);
  }

  private abortLocal(runId: string, reason: StopReason): void {
    const controller = this.local.get(runId);
    if (!controller || controller.signal.aborted) return;
    this.log.info({ runId, reason: reason.kind }, 'stopping run');
    controller.abort(new RunStopped(reason));
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

function parseMessage(message: string): { runId: string; reason: StopReason } | null {
  const [runId, encoded] = message.split(' ');
  if (!runId || !encoded) return null;
  if (encoded.startsWith('interrupted:')) return { runId, reason: { kind: 'interrupted', by: encoded.slice('interrupted:'.length) } };
  return { runId, reason: { kind: 'cancelled' } };
}
