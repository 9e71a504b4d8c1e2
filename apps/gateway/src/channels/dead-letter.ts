/**
 * Dead letters written by the channel handlers themselves. The bus dead-letters only crashes that
 * outlive their deliveries; a refusal (a receiver's 4xx, a destination this replica may not post
 * to) is known final at once. The entry has the bus's own shape, with a fresh action id so that a
 * replay (`npm run ops`) is not taken for the delivery that already ended.
 */
import type { HandlerContext } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import type { Redis } from 'ioredis';

export interface Refusal {
  code: string;
  reason: string;
  /** Extra fields of the entry, e.g. the receiver's status. */
  extra?: Record<string, string | number>;
}

export async function deadLetterRefusal(redis: Redis, prefix: string, consumer: string, ctx: HandlerContext<never>, data: unknown, refusal: Refusal): Promise<void> {
  const { replyTo: _r, deadline: _d, ...envelope } = ctx.action;
  const raw = JSON.stringify({ ...envelope, id: `${ctx.action.id}:r${Date.now()}`, data });
  const fields = ['a', raw, 'code', refusal.code, 'reason', refusal.reason, 'attempts', String(ctx.attempt), 'service', 'gateway', 'type', ctx.action.type, 'entry', '', 'consumer', consumer, 'at', String(Date.now())];
  for (const [k, v] of Object.entries(refusal.extra ?? {})) fields.push(k, String(v));
  await redis.xadd(busKeys.deadLetters(prefix, 'gateway'), 'MAXLEN', '~', 100_000, '*', ...fields);
}
