import type { RedisClient } from '../connection.js';
import { z } from 'zod';
import { action, ActionError, type AnyCatalog } from '@parley/contracts';
import type { Handlers } from '../types.js';

/** A small catalog for the bus's own tests and benchmark: the transport, not the domain, is under test. */
export const echoCatalog = {
  'echo.ping': action({
    service: 'echo',
    description: 'Answers with what it got and who answered.',
    data: z.object({ n: z.number(), text: z.string().optional() }),
    reply: z.object({ n: z.number(), worker: z.string(), traceId: z.string(), tenantId: z.string() }),
    delivery: { visibilityTimeoutMs: 500 },
  }),
  'echo.notify': action({
    service: 'echo',
    description: 'Fire-and-forget: sets a key.',
    data: z.object({ key: z.string() }),
    reply: null,
    delivery: { visibilityTimeoutMs: 500 },
  }),
  'echo.incr': action({
    service: 'echo',
    description: 'Mutation: increments a counter, optionally after a pause.',
    data: z.object({ key: z.string(), sleepMs: z.number().int().nonnegative().default(0) }),
    reply: z.object({ value: z.number(), worker: z.string() }),
    delivery: { visibilityTimeoutMs: 500, mutates: true, maxDeliveries: 3 },
  }),
  'echo.crash': action({
    service: 'echo',
    description: 'Always throws a plain error (a crash); with `sqlstate`, a driver error of that SQLSTATE wrapped like drizzle wraps it.',
    data: z.object({ key: z.string(), sqlstate: z.string().optional() }),
    reply: z.object({}),
    delivery: { visibilityTimeoutMs: 300, maxDeliveries: 2 },
  }),
  'echo.fail': action({
    service: 'echo',
    description: 'Throws an ActionError (a reported failure).',
    data: z.object({}),
    reply: z.object({}),
  }),
  'echo.stream': action({
    service: 'echo',
    description: 'Streams n events, then replies.',
    data: z.object({ n: z.number().int().min(0).max(1000) }),
    reply: z.object({ sent: z.number() }),
    events: z.object({ i: z.number() }),
  }),
  'echo.logged': action({
    service: 'echo',
    description: 'Streams n events, each appended to the stream `<prefix>:log:<key>` first (emitLogged); replies how many appends Redis refused.',
    data: z.object({ key: z.string(), n: z.number().int().min(0).max(1000) }),
    reply: z.object({ sent: z.number(), refused: z.number() }),
    events: z.object({ i: z.number() }),
  }),
} satisfies AnyCatalog;
export type EchoCatalog = typeof echoCatalog;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export interface EchoProbe {
  active: number;
  maxActive: number;
  started: number;
}

export function echoHandlers(
  redis: RedisClient,
  prefix: string,
  worker: string,
  probe: EchoProbe = { active: 0, maxActive: 0, started: 0 },
): Handlers<EchoCatalog, 'echo'> {
  return {
    'echo.ping': async (data, ctx) => ({ n: data.n, worker, traceId: ctx.action.traceId, tenantId: ctx.action.tenantId }),
    'echo.notify': async (data) => {
      await redis.incr(`${prefix}:notify:${data.key}`);
    },
    'echo.incr': async (data, ctx) => {
      probe.active++;
      probe.started++;
      probe.maxActive = Math.max(probe.maxActive, probe.active);
      // Only the first delivery pauses, so a redelivery after a crash completes at once.
      if (data.sleepMs > 0 && ctx.attempt === 1) {
        // Tell a test that the handler is mid-flight (so it can kill this process now).
        await redis.set(`${prefix}:started:${data.key}`, worker);
        await sleep(data.sleepMs);
      }
      probe.active--;
      return { value: await redis.incr(`${prefix}:count:${data.key}`), worker };
    },
    'echo.crash': async (data) => {
      await redis.incr(`${prefix}:crashes:${data.key}`);
      if (data.sqlstate) {
        const driver = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: data.sqlstate });
        throw new Error('Failed query: insert into "t" ("a") values ($1)\nparams: boom', { cause: driver });
      }
      throw new Error('boom: handler crashed');
    },
    'echo.fail': async () => {
      throw new ActionError('not_found', 'nothing here');
    },
    'echo.stream': async (data, ctx) => {
      for (let i = 0; i < data.n; i++) ctx.emit({ i });
      return { sent: data.n };
    },
    'echo.logged': async (data, ctx) => {
      const stream = `${prefix}:log:${data.key}`;
      // Not awaited one by one: the appends are pipelined, as a streaming handler's are.
      const appends = Array.from({ length: data.n }, (_, i) => ctx.emitLogged([{ i }], { stream, fields: ['i', String(i)], ttlMs: 60_000 }));
      const outcomes = await Promise.allSettled(appends);
      return { sent: data.n, refused: outcomes.filter((o) => o.status === 'rejected').length };
    },
  };
}
