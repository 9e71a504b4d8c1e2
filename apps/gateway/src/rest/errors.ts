import { ActionError, describeZodError } from '@parley/contracts';
import { httpStatusOf, toClientError } from '@parley/service-kit';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** Every REST failure has the ErrorBody shape; the status comes from the code. Crashes answer `internal` + ref (toClientError). */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const body = toClientError(err, reply.log as Logger, { route: reply.request.routeOptions.url });
  return reply.code(httpStatusOf(body.code)).send(body);
}

export function notFound(what: string): ActionError {
  return new ActionError('not_found', `no ${what}`);
}

/** zod at the boundary: a 400 that names the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ActionError('invalid_payload', describeZodError(r.error));
  return r.data;
}
