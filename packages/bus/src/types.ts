import type { ActionsOf, AnyCatalog, CallableType, DataIn, DataOf, DomainAction, ErrorCode, EventOf, ReplyIn, ReplyOf } from '@parley/contracts';
import type { Logger } from 'pino';

/** Who and where an action comes from; carried along every hop. */
export interface ActionMeta {
  tenantId: string;
  /**
   * W3C trace id (32 hex); a new one is made when absent. When the send has a trace context (the
   * active span, or `traceparent`), the envelope's traceId is that trace's id instead.
   */
  traceId?: string;
  /** W3C traceparent of the action being handled (set in `ctx.meta`): the parent of a send made outside any active span. */
  traceparent?: string;
  /** Ties a chain of actions to its origin; a new one is made when absent. */
  correlationId?: string;
  sessionId?: string;
  userId?: string;
  roles?: string[];
  /** Absolute epoch ms after which the action must not run. `call` defaults it to now + timeout. */
  deadline?: number;
  /** Fix the action id, so a retried send is de-duplicated by the worker. */
  actionId?: string;
}

export interface CallOptions<E = unknown> {
  timeoutMs?: number;
  /** Events the handler streams before its reply (e.g. run tokens), in order. */
  onEvent?: (event: E) => void;
  signal?: AbortSignal;
}

export type Outcome = 'ok' | 'error' | 'crash' | 'dead_letter' | 'deadline_exceeded' | 'duplicate' | 'invalid' | 'timeout';

/** Metric hooks, wired by service-kit to prom-client. */
export interface BusHooks {
  handled?(type: string, outcome: Outcome, ms: number): void;
  called?(type: string, outcome: Outcome, ms: number): void;
  deadLettered?(service: string, type: string, reason: string): void;
}

export interface HandlerContext<E = never> {
  /** The envelope without its data. */
  action: Omit<DomainAction, 'data'>;
  attempt: number;
  log: Logger;
  /** Aborted when the deadline passes or the worker shuts down past its grace period. */
  signal: AbortSignal;
  /** Meta to pass to downstream `send`/`call`, so tenant, trace and correlation follow the chain. */
  meta: ActionMeta;
  /** Streams an event to the caller, if it waits for a reply. */
  emit(event: E): void;
  /**
   * Appends `entry` to a stream (the handler's own record of what it emitted, which a later reader
   * replays) and streams `events` to the caller once the stream holds them. Resolves when the stream
   * holds the entry; rejects when Redis refused the append. Nothing reaches the caller that the stream
   * does not hold, even if this process dies mid-write (see Outbox.append).
   */
  emitLogged(events: readonly E[], entry: StreamEntry): Promise<void>;
}

/** One entry to append to a stream: its field/value list, and the stream's TTL to (re)set with it. */
export interface StreamEntry {
  stream: string;
  fields: readonly string[];
  ttlMs?: number;
}

export type Handler<C extends AnyCatalog, K extends keyof C & string> = (data: DataOf<C, K>, ctx: HandlerContext<EventOf<C, K>>) => Promise<ReplyIn<C, K>>;

/** One handler for every action type of `S`: a missing or misnamed one is a compile error. */
export type Handlers<C extends AnyCatalog, S extends string> = { [K in ActionsOf<C, S>]: Handler<C, K> };

export interface WorkerOptions {
  /** Handlers running at once in this process. */
  concurrency?: number;
  /** Entries fetched per XREADGROUP. */
  batchSize?: number;
  /** Grace period for in-flight handlers on shutdown. */
  graceMs?: number;
}

export interface WorkerHandle {
  readonly service: string;
  readonly consumer: string;
  inFlight(): number;
  /** Last time the read loop completed a cycle (epoch ms), for readiness checks. */
  lastLoopAt(): number;
  stop(graceMs?: number): Promise<void>;
}

export interface Bus<C extends AnyCatalog> {
  readonly instance: string;
  readonly prefix: string;
  send<K extends keyof C & string>(type: K, data: DataIn<C, K>, meta: ActionMeta): Promise<string>;
  call<K extends CallableType<C>>(type: K, data: DataIn<C, K>, meta: ActionMeta, opts?: CallOptions<EventOf<C, K>>): Promise<ReplyOf<C, K>>;
  handle<S extends C[keyof C]['service']>(service: S, handlers: Handlers<C, S>, opts?: WorkerOptions): WorkerHandle;
  /** true while the command connection is ready. */
  isConnected(): boolean;
  /** Calls waiting for a reply (a timed-out call is no longer counted). */
  pendingCalls(): number;
  close(graceMs?: number): Promise<void>;
}

export type { ErrorCode };
