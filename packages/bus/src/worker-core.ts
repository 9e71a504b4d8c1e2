import type { Logger } from 'pino';
import {
  ActionError,
  DomainAction,
  busKeys,
  describeZodError,
  type AnyCatalog,
  type DomainActionResponse,
  type ErrorBody,
  type ErrorCode,
} from '@parley/contracts';
import { errorMessage, sleep, type RedisClient } from './connection.js';
import { isDataException, newErrorRef } from './failures.js';
import type { Outbox } from './outbox.js';
import { writeDeadLetter } from './ops/dead-letters.js';
import { inHandleSpan, markOutcome, traceparentOf } from './tracing.js';
import type { ActionMeta, BusHooks, HandlerContext, Outcome, StreamEntry } from './types.js';

type AnyHandler = (data: unknown, ctx: HandlerContext<unknown>) => Promise<unknown>;

interface ReplyTarget {
  id: string;
  correlationId: string;
  replyTo: string | undefined;
  type: string | undefined;
}

export interface WorkerCoreDeps {
  cmd: RedisClient;
  outbox: Outbox;
  catalog: AnyCatalog;
  prefix: string;
  service: string;
  consumer: string;
  log: Logger;
  hooks: BusHooks;
  handlers: Record<string, AnyHandler>;
}

/**
 * Turns one stream entry into exactly one outcome: a reply + ack, or a dead letter + error reply +
 * ack. A handler that crashes is retried with backoff up to the type's max deliveries; a process
 * that dies leaves its entries pending, for the reclaim loop. A crash on data PostgreSQL refuses is
 * answered at once (no retry can succeed). The caller of a crashed action learns only a reference:
 * the crash's message (SQL, parameters, stack) stays in this service's log and dead letter.
 */
export class WorkerCore {
  readonly stream: string;
  readonly group: string;
  /** Abort controllers of running handlers that asked for a signal (aborted on shutdown). */
  readonly controllers = new Map<string, { controller: AbortController; timer: NodeJS.Timeout | undefined }>();

  constructor(private readonly d: WorkerCoreDeps) {
    this.stream = busKeys.stream(d.prefix, d.service);
    this.group = busKeys.group(d.service);
  }

  async process(entryId: string, raw: string | undefined, attempt: number): Promise<void> {
    const started = performance.now();
    if (raw === undefined) return this.deadLetter(entryId, '', 'invalid_payload', 'stream entry has no `a` field', undefined, attempt, started);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return this.deadLetter(entryId, raw, 'invalid_payload', 'stream entry is not valid JSON', undefined, attempt, started);
    }
    const parsed = DomainAction.safeParse(json);
    if (!parsed.success) {
      const msg = `invalid action envelope: ${describeZodError(parsed.error)}`;
      return this.deadLetter(entryId, raw, 'invalid_payload', msg, looseTarget(json), attempt, started);
    }
    const action = parsed.data;
    const where = { stream: this.stream, group: this.group, consumer: this.d.consumer, attempt };
    return inHandleSpan(action, where, (span) => this.processAction(entryId, raw, action, attempt, started, traceparentOf(span)));
  }

  /** `traceparent`: of the handle span (or, in a process that does not trace, the sender's), for the handler's meta. */
  private async processAction(
    entryId: string,
    raw: string,
    action: DomainAction,
    attempt: number,
    started: number,
    traceparent: string | undefined,
  ): Promise<void> {
    const target: ReplyTarget = { id: action.id, correlationId: action.correlationId, replyTo: action.replyTo, type: action.type };
    const def = this.d.catalog[action.type];
    const handler = this.d.handlers[action.type];
    if (!def || def.service !== this.d.service || !handler) {
      const msg = `unknown action type "${action.type}" for service ${this.d.service}`;
      return this.deadLetter(entryId, raw, 'unknown_action', msg, target, attempt, started);
    }
    const data = def.data.safeParse(action.data);
    if (!data.success) {
      const msg = `invalid ${action.type} payload: ${describeZodError(data.error)}`;
      return this.deadLetter(entryId, raw, 'invalid_payload', msg, target, attempt, started);
    }
    if (action.deadline !== undefined && action.deadline < Date.now()) {
      const late = Date.now() - action.deadline;
      this.finish(
        entryId,
        target,
        {
          ok: false,
          error: { code: 'deadline_exceeded', message: `${action.type} reached the worker ${late} ms after its deadline; not executed`, retryable: true },
        },
        null,
      );
      return this.observe(action.type, 'deadline_exceeded', started);
    }
    if (attempt > def.delivery.maxDeliveries) {
      const msg = `${action.type} was delivered ${attempt - 1} times without completing; giving up`;
      return this.deadLetter(entryId, raw, 'max_deliveries', msg, target, attempt, started);
    }
    const markKey = def.delivery.mutates ? busKeys.doneMark(this.d.prefix, this.d.service, action.id) : null;
    if (markKey) {
      const previous = await this.d.cmd.get(markKey);
      if (previous !== null) {
        this.finish(entryId, target, JSON.parse(previous) as ReplyBody, null);
        return this.observe(action.type, 'duplicate', started);
      }
    }

    const ctx = this.context(entryId, action, attempt, traceparent);
    let retry = false;
    try {
      const result = await handler(data.data, ctx);
      this.finish(entryId, target, { ok: true, data: result ?? null }, markKey);
      this.observe(action.type, 'ok', started);
    } catch (err) {
      if (err instanceof ActionError) {
        this.finish(entryId, target, { ok: false, error: err.toBody() }, markKey);
        this.observe(action.type, 'error', started);
        if (err.code !== 'not_found') ctx.log.warn({ code: err.code, err: err.message }, 'action failed');
      } else if (isDataException(err)) {
        const ref = newErrorRef();
        ctx.log.error({ err: errorMessage(err), stack: (err as Error).stack, attempt, ref }, 'handler crashed on data the database refuses; not retrying');
        const error: ErrorBody = { code: 'internal', message: `${action.type} failed on our side (reference ${ref})`, retryable: false, ref };
        this.finish(entryId, target, { ok: false, error }, markKey);
        this.observe(action.type, 'error', started);
      } else if (attempt >= def.delivery.maxDeliveries) {
        const ref = newErrorRef();
        const msg = `${action.type} crashed on its last allowed delivery (${attempt}): ${errorMessage(err)}`;
        ctx.log.error({ err: errorMessage(err), attempt, ref }, 'handler crashed; dead-lettering');
        const reply: ErrorBody = {
          code: 'max_deliveries',
          message: `${action.type} failed on every delivery (${attempt}) (reference ${ref})`,
          retryable: false,
          ref,
        };
        return this.deadLetter(entryId, raw, 'max_deliveries', msg, target, attempt, started, reply);
      } else {
        // A crash is retried here after a short backoff, while the caller still waits, rather than
        // after the visibility timeout; the entry stays claimed (and heartbeated) meanwhile. Only a
        // dead process leaves its entries to the reclaim loop.
        ctx.log.error({ err: errorMessage(err), stack: (err as Error).stack, attempt }, 'handler crashed; retrying');
        this.observe(action.type, 'crash', started);
        retry = true;
      }
    } finally {
      const lazy = this.controllers.get(entryId);
      if (lazy) {
        clearTimeout(lazy.timer);
        this.controllers.delete(entryId);
      }
    }
    if (retry) {
      await sleep(retryDelayMs(attempt, def.delivery.visibilityTimeoutMs));
      return this.process(entryId, raw, attempt + 1);
    }
  }

  private context(entryId: string, action: DomainAction, attempt: number, traceparent: string | undefined): HandlerContext<unknown> {
    const { data: _data, ...envelope } = action;
    const meta: ActionMeta = { tenantId: action.tenantId, traceId: action.traceId, correlationId: action.correlationId };
    if (traceparent !== undefined) meta.traceparent = traceparent;
    if (action.sessionId !== undefined) meta.sessionId = action.sessionId;
    if (action.userId !== undefined) meta.userId = action.userId;
    if (action.roles !== undefined) meta.roles = action.roles;
    let log: Logger | undefined;
    const baseLog = this.d.log;
    const outbox = this.d.outbox;
    const controllers = this.controllers;
    return {
      action: envelope,
      attempt,
      meta,
      // Lazy like the logger: an AbortController and a deadline timer per action cost more than a
      // short handler; only handlers that look at the signal pay for it.
      get signal() {
        let entry = controllers.get(entryId);
        if (!entry) {
          const controller = new AbortController();
          const timer =
            action.deadline === undefined
              ? undefined
              : setTimeout(() => controller.abort(new ActionError('deadline_exceeded', 'deadline passed')), Math.max(0, action.deadline - Date.now()));
          entry = { controller, timer };
          controllers.set(entryId, entry);
        }
        return entry.controller.signal;
      },
      // Lazy: most actions never log, and a pino child per action is measurable on the hot path.
      get log() {
        log ??= baseLog.child({
          action: action.type,
          actionId: action.id,
          tenantId: action.tenantId,
          correlationId: action.correlationId,
          traceId: action.traceId,
        });
        return log;
      },
      emit(event: unknown) {
        if (action.replyTo === undefined) return;
        outbox.push(action.replyTo, eventMessage(action, event));
      },
      emitLogged(events: readonly unknown[], entry: StreamEntry) {
        const messages = action.replyTo === undefined ? [] : events.map((event) => eventMessage(action, event));
        return outbox.append(entry, action.replyTo, messages);
      },
    };
  }

  /** Reply (when someone waits), remember the reply of a mutation, then ack — in that order. */
  private finish(entryId: string, target: ReplyTarget, body: ReplyBody, markKey: string | null): void {
    if (markKey) this.d.outbox.mark(markKey, JSON.stringify(body));
    if (target.replyTo !== undefined) {
      const reply = { correlationId: target.correlationId, actionId: target.id, ...body } as DomainActionResponse;
      this.d.outbox.push(target.replyTo, JSON.stringify({ k: 'r', reply }));
    }
    this.d.outbox.ack(this.stream, this.group, entryId);
  }

  /** `reply` replaces the reason in the caller's answer when the reason holds internal detail. */
  async deadLetter(
    entryId: string,
    raw: string,
    code: ErrorCode,
    message: string,
    target: ReplyTarget | undefined,
    attempt: number,
    started: number,
    reply?: ErrorBody,
  ): Promise<void> {
    const type = target?.type ?? '';
    // The dead letter is written before the ack leaves (same connection, earlier in the pipeline).
    void writeDeadLetter(this.d.cmd, this.d.prefix, {
      service: this.d.service,
      raw,
      type,
      code,
      reason: message,
      attempts: attempt,
      entry: entryId,
      consumer: this.d.consumer,
    }).catch((err: unknown) => this.d.log.error({ err: errorMessage(err) }, 'could not write dead letter'));
    const error: ErrorBody = reply ?? { code, message, retryable: false };
    this.finish(entryId, target ?? { id: '', correlationId: '', replyTo: undefined, type }, { ok: false, error }, null);
    this.d.hooks.deadLettered?.(this.d.service, type, code);
    this.d.log.warn(
      { entryId, action: type || undefined, actionId: target?.id, correlationId: target?.correlationId, code, reason: message, attempts: attempt },
      'action dead-lettered',
    );
    this.observe(type || 'unknown', 'dead_letter', started);
  }

  private observe(type: string, outcome: Outcome, started: number): void {
    markOutcome(outcome);
    this.d.hooks.handled?.(type, outcome, performance.now() - started);
  }
}

/**
 * Backoff before retrying a crashed handler: 250 ms, 1 s, 4 s, … (jittered), capped at half the
 * visibility timeout. Crashes are mostly a dependency that went away for a few seconds (a database
 * restart, a network blip), so the retries must span seconds, not milliseconds, before the action
 * is given up to the dead-letter stream.
 */
export function retryDelayMs(attempt: number, visibilityTimeoutMs: number): number {
  const base = Math.min(250 * 4 ** (attempt - 1), visibilityTimeoutMs / 2);
  return base * (0.75 + Math.random() / 2);
}

type ReplyBody = { ok: true; data: unknown } | { ok: false; error: ErrorBody };

/** An event as its caller's callback queue carries it. */
function eventMessage(action: DomainAction, event: unknown): string {
  return JSON.stringify({ k: 'e', ev: { correlationId: action.correlationId, actionId: action.id, event } });
}

/** Best effort: an envelope that failed validation may still say where its caller waits. */
function looseTarget(json: unknown): ReplyTarget | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const o = json as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const id = str(o.id);
  if (!id) return undefined;
  return { id, correlationId: str(o.correlationId) ?? id, replyTo: str(o.replyTo), type: str(o.type) };
}
