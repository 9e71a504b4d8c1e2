import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { ActionError, busKeys, describeZodError, type AnyCatalog, type DomainAction, type DomainActionResponse } from '@parley/contracts';
import { CallbackQueue } from './callback-queue.js';
import { commandConnection, errorMessage, type RedisTarget, type RedisClient } from './connection.js';
import { newTraceId, uuidv7 } from './ids.js';
import { Outbox } from './outbox.js';
import { endSpan, stampTrace, startSendSpan } from './tracing.js';
import type { ActionMeta, Bus, BusHooks, CallOptions, WorkerHandle, WorkerOptions } from './types.js';
import { Worker } from './worker.js';
import { WorkerCore } from './worker-core.js';

export interface BusOptions<C extends AnyCatalog> {
  catalog: C;
  redis: RedisTarget;
  /** Namespace of every key: `{prefix}:actions:{service}` etc. */
  prefix?: string;
  /** The service this process is (origin of what it sends). */
  service: string;
  /** Unique per process; also the consumer name. A restarted replica that keeps its name drains its own pending work. */
  instance?: string;
  logger?: Logger;
  hooks?: BusHooks;
  /** How long a mutation's reply is remembered for de-duplication. */
  idempotencyTtlMs?: number;
  blockMs?: number;
  trimEveryMs?: number;
}

/** How long a callback queue outlives its last reader: replies to a dead caller expire with it. */
const CALLBACK_TTL_MS = 10 * 60_000;
const DEFAULT_INSTANCE = () => `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;

export function createBus<C extends AnyCatalog>(opts: BusOptions<C>): Bus<C> {
  return new RedisBus(opts);
}

class RedisBus<C extends AnyCatalog> implements Bus<C> {
  readonly instance: string;
  readonly prefix: string;
  private readonly cmd: RedisClient;
  private readonly log: Logger;
  private readonly hooks: BusHooks;
  private readonly outbox: Outbox;
  private readonly callbacks: CallbackQueue;
  private readonly workers: Worker[] = [];
  private closed = false;

  constructor(private readonly opts: BusOptions<C>) {
    this.prefix = opts.prefix ?? 'parley';
    this.instance = opts.instance ?? DEFAULT_INSTANCE();
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.hooks = opts.hooks ?? {};
    this.cmd = commandConnection(opts.redis, `${this.instance}:cmd`);
    this.cmd.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis connection error'));
    this.outbox = new Outbox(this.cmd, opts.idempotencyTtlMs ?? 24 * 3600_000, CALLBACK_TTL_MS);
    this.callbacks = new CallbackQueue(busKeys.callbackQueue(this.prefix, this.instance), opts.redis, this.instance, this.log);
  }

  pendingCalls(): number {
    return this.callbacks.pendingCount;
  }

  isConnected(): boolean {
    return this.cmd.status === 'ready';
  }

  private envelope(type: string, data: unknown, meta: ActionMeta, replyTo: string | undefined, deadline: number | undefined): DomainAction {
    const id = meta.actionId ?? uuidv7();
    const action: DomainAction = {
      id,
      type,
      tenantId: meta.tenantId,
      correlationId: meta.correlationId ?? id,
      traceId: meta.traceId ?? newTraceId(),
      origin: { service: this.opts.service, instance: this.instance },
      createdAt: Date.now(),
      data,
    };
    if (meta.sessionId !== undefined) action.sessionId = meta.sessionId;
    if (meta.userId !== undefined) action.userId = meta.userId;
    if (meta.roles !== undefined) action.roles = meta.roles;
    if (replyTo !== undefined) action.replyTo = replyTo;
    if (deadline !== undefined) action.deadline = deadline;
    return action;
  }

  private definition(type: string) {
    const def = this.opts.catalog[type];
    if (!def) throw new ActionError('unknown_action', `unknown action type "${type}"`);
    return def;
  }

  async send(type: string, data: unknown, meta: ActionMeta): Promise<string> {
    const def = this.definition(type);
    if (this.closed) throw new ActionError('unavailable', 'bus is closed', { retryable: true });
    const action = this.envelope(type, data, meta, undefined, meta.deadline);
    const stream = busKeys.stream(this.prefix, def.service);
    const span = startSendSpan(action, stream, this.instance, meta.traceparent);
    stampTrace(action, span);
    try {
      await this.cmd.xadd(stream, '*', 'a', JSON.stringify(action));
    } catch (err) {
      endSpan(span, { message: errorMessage(err) });
      throw err;
    }
    endSpan(span);
    return action.id;
  }

  call(type: string, data: unknown, meta: ActionMeta, opts: CallOptions = {}): Promise<never> {
    const def = this.definition(type);
    if (this.closed) return Promise.reject(new ActionError('unavailable', 'bus is closed', { retryable: true }));
    const timeoutMs = opts.timeoutMs ?? def.delivery.timeoutMs;
    const action = this.envelope(type, data, meta, this.callbacks.key, meta.deadline ?? Date.now() + timeoutMs);
    const stream = busKeys.stream(this.prefix, def.service);
    // The call's span lasts until its reply: the time a caller waited, with the handler's span inside.
    const span = startSendSpan(action, stream, this.instance, meta.traceparent);
    stampTrace(action, span);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const fail = (err: ActionError, outcome: 'error' | 'timeout') => {
        endSpan(span, err);
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.callbacks.unregister(action.id);
        this.hooks.called?.(type, outcome, performance.now() - started);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new ActionError('timeout', `${type} got no reply within ${timeoutMs} ms`, { retryable: true }), 'timeout'),
        timeoutMs,
      );
      const onAbort = () => fail(new ActionError('cancelled', `${type} call aborted by the caller`), 'error');
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.callbacks.register(action.id, {
        settle: (reply: DomainActionResponse) => {
          if (!reply.ok) return fail(ActionError.fromBody(reply.error), 'error');
          const parsed = def.reply ? def.reply.safeParse(reply.data) : { success: true as const, data: undefined };
          if (!parsed.success) return fail(new ActionError('internal', `${type} replied with an invalid body: ${describeZodError(parsed.error)}`), 'error');
          endSpan(span);
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          this.hooks.called?.(type, 'ok', performance.now() - started);
          resolve(parsed.data as never);
        },
        event: (event: unknown) => {
          if (!opts.onEvent) return;
          const parsed = def.events ? def.events.safeParse(event) : { success: true as const, data: event };
          if (parsed.success) opts.onEvent(parsed.data);
          else this.log.warn({ action: type, err: describeZodError(parsed.error) }, 'dropped an invalid event');
        },
      });
      this.cmd.xadd(stream, '*', 'a', JSON.stringify(action)).catch((err: unknown) => {
        fail(new ActionError('unavailable', `could not send ${type}: ${errorMessage(err)}`, { retryable: true }), 'error');
      });
    });
  }

  handle(service: string, handlers: object, opts: WorkerOptions = {}): WorkerHandle {
    const types = Object.entries(this.opts.catalog).filter(([, def]) => def.service === service);
    const visibilityMs = Math.min(...types.map(([, def]) => def.delivery.visibilityTimeoutMs));
    const log = this.log.child({ worker: service });
    const core = new WorkerCore({
      cmd: this.cmd,
      outbox: this.outbox,
      catalog: this.opts.catalog,
      prefix: this.prefix,
      service,
      consumer: this.instance,
      log,
      hooks: this.hooks,
      handlers: handlers as never,
    });
    const worker = new Worker({
      core,
      cmd: this.cmd,
      outbox: this.outbox,
      target: this.opts.redis,
      service,
      consumer: this.instance,
      visibilityMs,
      concurrency: opts.concurrency ?? 64,
      batchSize: opts.batchSize ?? 64,
      blockMs: this.opts.blockMs ?? 5_000,
      graceMs: opts.graceMs ?? 10_000,
      trimEveryMs: this.opts.trimEveryMs ?? 30_000,
      log,
    });
    this.workers.push(worker);
    return worker;
  }

  async close(graceMs?: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.stop(graceMs)));
    await this.callbacks.close();
    await this.outbox.drain();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }
}
