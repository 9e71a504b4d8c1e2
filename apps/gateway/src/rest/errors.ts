import { ActionError, describeZodError, type ErrorBody, type RestErrorBody } from '@parley/contracts';
import { httpStatusOf, toClientError } from '@parley/service-kit';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';

/** The one REST error shape (RestErrorBody): the body under `error`, with the request's id. */
export function restError(body: ErrorBody, requestId: string): RestErrorBody {
  return { error: { ...body, requestId } };
}

/** Answers a refusal the route words itself, in the one error shape. */
export function refuse(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).send(restError(body, reply.request.id));
}

/** Every REST failure has the one error shape; the status comes from the code. Crashes answer `internal` + ref (toClientError). */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const body = toClientError(err, reply.log as Logger, { route: reply.request.routeOptions.url });
  return refuse(reply, httpStatusOf(body.code), body);
}

export function notFound(what: string): ActionError {
  return new ActionError('not_found', `no ${what}`);
}

/** zod at the boundary: a 400 that names the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new ActionError('invalid_payload', describeZodError(r.error), { details: { fields: r.error.issues.slice(0, 5).map((i) => i.path.join('.')) } });
  return r.data;
}

/** A request header checked like a body field: a 400 that names the header. */
export function parseHeader<S extends z.ZodType>(schema: S, name: string, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ActionError('invalid_payload', `${name}: ${r.error.issues[0]?.message ?? 'invalid'}`, { details: { header: name } });
  return r.data;
}
