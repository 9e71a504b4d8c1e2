/**
 * The live side of hand-offs across gateway replicas: each replica publishes a tenant's
 * HandoffFeedEvents on the tenant's Redis pub/sub channel, and one subscriber connection per replica
 * hands them to the local listeners (user sockets, operator consoles). Pub/sub is fire-and-forget on
 * purpose: every state and message is stored before it is published, so a listener that missed one
 * (a reconnect) reads it back from the queue or the transcript.
 */
import { HandoffFeedEvent, handoffFeedChannel } from '@parley/contracts';
import type { RedisClient } from '@parley/bus';
import type { Logger } from 'pino';

type Listener = (e: HandoffFeedEvent) => void;

export class HandoffFeed {
  private sub: RedisClient | undefined;
  private subReady: Promise<RedisClient> | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  async publish(tenantId: string, event: HandoffFeedEvent): Promise<void> {
    await this.redis.publish(handoffFeedChannel(this.prefix, tenantId), JSON.stringify(event));
  }

  /** Calls `fn` with every event of the tenant until the returned function is called; resolves once subscribed. */
  async listen(tenantId: string, fn: Listener): Promise<() => void> {
    const channel = handoffFeedChannel(this.prefix, tenantId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(fn);
    const stop = () => {
      const s = this.listeners.get(channel);
      if (!s?.delete(fn) || s.size > 0) return;
      this.listeners.delete(channel);
      this.sub?.unsubscribe(channel).catch((err: unknown) => this.log.warn({ err, channel }, 'handoff feed: unsubscribe failed'));
    };
    try {
      await (await this.subscriber()).subscribe(channel);
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /**
   * The replica's one subscriber connection, connected (ready check done) before its first SUBSCRIBE:
   * the kit's connections connect lazily, and a SUBSCRIBE that reached the server ahead of the ready
   * check's INFO left the connection refusing that INFO, failing every socket's set-up at once.
   */
  private subscriber(): Promise<RedisClient> {
    this.subReady ??= (async () => {
      const sub = this.redis.duplicate();
      sub.on('message', (channel: string, raw: string) => this.dispatch(channel, raw));
      this.sub = sub;
      if (sub.status === 'wait') await sub.connect();
      return sub;
    })().catch((err: unknown) => {
      // Redis away: this listen fails, and the next one starts over with a new connection.
      this.dropConnection();
      throw err;
    });
    return this.subReady;
  }

  private dispatch(channel: string, raw: string): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    let event: HandoffFeedEvent;
    try {
      event = HandoffFeedEvent.parse(JSON.parse(raw));
    } catch (err) {
      this.log.warn({ err, channel }, 'handoff feed: dropping an event that does not parse');
      return;
    }
    for (const fn of set) fn(event);
  }

  close(): void {
    this.dropConnection();
    this.listeners.clear();
  }

  private dropConnection(): void {
    this.sub?.disconnect();
    this.sub = undefined;
    this.subReady = undefined;
  }
}
