import type { Logger } from 'pino';
import { ActionError, CallbackMessage, type DomainActionResponse } from '@parley/contracts';
import { blockingConnection, errorMessage, sleep, type RedisTarget, type RedisClient } from './connection.js';

interface Waiter {
  settle(reply: DomainActionResponse): void;
  event(event: unknown): void;
}

/**
 * The caller's side of request/reply: ONE list per process, ONE blocking connection popping
 * replies in batches (BLMPOP) and dispatching them to waiting calls by action id.
 */
export class CallbackQueue {
  private readonly waiters = new Map<string, Waiter>();
  private conn: RedisClient | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly key: string,
    private readonly target: RedisTarget,
    private readonly name: string,
    private readonly log: Logger,
  ) {}

  get pendingCount(): number {
    return this.waiters.size;
  }

  register(actionId: string, waiter: Waiter): void {
    this.waiters.set(actionId, waiter);
    if (!this.running) this.start();
  }

  unregister(actionId: string): void {
    this.waiters.delete(actionId);
  }

  private start(): void {
    this.running = true;
    this.conn = blockingConnection(this.target, `${this.name}:callbacks`);
    this.conn.on('error', () => {}); // reconnects on its own; errors surface in the loop
    this.loop = this.run(this.conn);
  }

  private async run(conn: RedisClient): Promise<void> {
    let backoff = 50;
    while (this.running) {
      try {
        const res = (await conn.call('BLMPOP', 1, 1, this.key, 'LEFT', 'COUNT', 1000)) as [string, string[]] | null;
        backoff = 50;
        if (res) for (const raw of res[1]) this.dispatch(raw);
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err: errorMessage(err) }, 'callback queue read failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  private dispatch(raw: string): void {
    let msg: CallbackMessage;
    try {
      const parsed = CallbackMessage.safeParse(JSON.parse(raw));
      if (!parsed.success) throw new Error(parsed.error.message);
      msg = parsed.data;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'dropped a malformed callback message');
      return;
    }
    if (msg.k === 'e') {
      this.waiters.get(msg.ev.actionId)?.event(msg.ev.event);
      return;
    }
    const waiter = this.waiters.get(msg.reply.actionId);
    if (!waiter) return; // the call already timed out or was aborted
    this.waiters.delete(msg.reply.actionId);
    waiter.settle(msg.reply);
  }

  async close(): Promise<void> {
    this.running = false;
    for (const [id, w] of this.waiters) {
      this.waiters.delete(id);
      w.settle({
        correlationId: '',
        actionId: id,
        ok: false,
        error: new ActionError('unavailable', 'bus closed while waiting for a reply', { retryable: true }).toBody(),
      });
    }
    if (!this.conn) return;
    // Disconnecting rejects the pending BLMPOP at once; `running` is false, so the loop just ends.
    this.conn.disconnect();
    await this.loop;
  }
}
