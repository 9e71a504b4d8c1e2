/**
 * Dead letters written by the channel handlers themselves. The bus dead-letters only crashes that
 * outlive their deliveries; a refusal (a receiver's 4xx, a destination this replica may not post
 * to) is known final at once. The entry has the bus's own shape, with a fresh action id so that a
 * replay (`npm run ops`) is not taken for the delivery that already ended.
 */
import { writeDeadLetter, type HandlerContext } from '@parley/bus';
import type { RedisClient } from '@parley/bus';

export interface Refusal {
  code: string;
  reason: string;
  /** Extra fields of the entry, e.g. the receiver's status. */
  extra?: Record<string, string | number>;
}

export async function deadLetterRefusal(
  redis: RedisClient,
  prefix: string,
  consumer: string,
  ctx: HandlerContext<never>,
  data: unknown,
  refusal: Refusal,
): Promise<void> {
  const { replyTo: _r, deadline: _d, ...envelope } = ctx.action;
  const raw = JSON.stringify({ ...envelope, id: `${ctx.action.id}:r${Date.now()}`, data });
  await writeDeadLetter(redis, prefix, {
    service: 'gateway',
    raw,
    type: ctx.action.type,
    code: refusal.code,
    reason: refusal.reason,
    attempts: ctx.attempt,
    entry: '',
    consumer,
    ...(refusal.extra ? { extra: refusal.extra } : {}),
  });
}
