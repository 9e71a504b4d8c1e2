/**
 * What every documented route shares, derived from the route rather than written at each call site:
 * the bearer requirement and its 401/403 (from the route's authGuard), the error responses in the one
 * shape (`components.schemas.Error`, contracts' RestErrorBody), `x-request-id` on every response, and an
 * operationId for routes that did not name one. @fastify/swagger calls `describeRoute` per route when
 * it builds the document.
 */
import type { SwaggerTransformObject } from '@fastify/swagger';
import type { FastifySchema, RouteOptions } from 'fastify';
import type { z } from 'zod';
import { requirementOf } from '../auth/guard.js';
import { PLUGIN_ROUTES } from './openapi-plugin-routes.js';

export const ERROR_SCHEMA_REF = '#/components/schemas/Error';

/** What `doc()` takes: the zod schemas a route parses with and what it answers. */
export interface DocParts {
  /** Unique, camelCase: the method name generated clients give the route. Derived from method and path when absent. */
  operationId?: string;
  description?: string;
  /** A JSON body, parsed with this schema. */
  body?: z.ZodType;
  bodyExample?: unknown;
  /** Bodies by media type, when the route takes more than JSON (multipart uploads). */
  content?: Record<string, z.ZodType | Record<string, unknown>>;
  params?: z.ZodType;
  querystring?: z.ZodType;
  /** The success status; default 200, or 204 when `reply` is null. */
  response?: number;
  /** The success body's schema (a bus action's reply: `replyOf('agent.get_run')`); null for no body. */
  reply?: z.ZodType | null;
  replyDescription?: string;
  replyExample?: unknown;
  /** Other successful answers by status (e.g. 200 for a replaced upload beside 201). */
  also?: Record<number, SuccessAnswer>;
  /** Error statuses the route's own code answers beyond those every route shares (e.g. 409, 422, 429). */
  errors?: number[];
}

export interface SuccessAnswer {
  description: string;
  reply?: z.ZodType | null | undefined;
  example?: unknown;
  /** Non-JSON answers (SSE): media type → media object. */
  content?: Record<string, unknown>;
  headers?: Record<string, { description: string; type: 'string' | 'integer' }>;
}

interface ErrorAnswer {
  /** Its name under components.responses. */
  name: string;
  description: string;
  example: { code: string; message: string; retryable: boolean; details?: Record<string, unknown> };
}

const ERRORS: Record<number, ErrorAnswer> = {
  400: {
    name: 'BadRequest',
    description: 'The request is invalid: a body that is not JSON, a field that fails its schema (`details.fields` names it), or a URL that does not decode',
    example: { code: 'invalid_payload', message: 'input: expected object, received string', retryable: false, details: { fields: ['input'] } },
  },
  401: {
    name: 'Unauthorized',
    description: 'No bearer token, or an expired or invalid one (`details.reason`: missing, expired, invalid, claims)',
    example: { code: 'unauthorized', message: 'your sign-in expired; sign in again', retryable: false, details: { reason: 'expired' } },
  },
  403: {
    name: 'Forbidden',
    description: 'The token lacks the role this route needs',
    example: { code: 'forbidden', message: 'this route needs the admin role', retryable: false },
  },
  404: {
    name: 'NotFound',
    description: "Nothing by that id for this caller: unknown ids and another tenant's or user's answer alike",
    example: { code: 'not_found', message: 'no run 0192f3c4-1b2a-7cde-8f00-123456789abc', retryable: false },
  },
  409: {
    name: 'Conflict',
    description: 'The resource is in a state that refuses this (it exists already, or it is archived)',
    example: { code: 'conflict', message: 'agent support exists', retryable: false },
  },
  413: {
    name: 'PayloadTooLarge',
    description: 'The body is larger than this route accepts',
    example: { code: 'payload_too_large', message: 'Request body is too large', retryable: false },
  },
  415: {
    name: 'UnsupportedMediaType',
    description:
      "The body's Content-Type is not one this route accepts, or an uploaded document's type is outside the allow-list (`details.type`, `details.allowed`)",
    example: {
      code: 'unsupported_media_type',
      message: 'image/png is not a document type the knowledge base takes; send one of application/pdf, …',
      retryable: false,
    },
  },
  422: {
    name: 'IdempotencyKeyReused',
    description: 'The Idempotency-Key was sent before with a different body: a key names one request',
    example: { code: 'idempotency_key_reused', message: 'Idempotency-Key k1 was used with another body', retryable: false },
  },
  429: {
    name: 'RateLimited',
    description: 'Rate limited; retry after `Retry-After` seconds (`details.retryAfterMs` is exact)',
    example: { code: 'rate_limited', message: 'too many runs started; retry in 1200 ms', retryable: true, details: { retryAfterMs: 1200 } },
  },
  500: {
    name: 'InternalError',
    description: 'An unexpected failure; `ref` names it in the logs (quote it to an operator)',
    example: { code: 'internal', message: 'internal error; see the service logs', retryable: true },
  },
  502: {
    name: 'ModelError',
    description: 'The model behind the service failed or answered something unusable; retry later',
    example: { code: 'model_error', message: 'asking the model for an answer failed; try again later', retryable: true },
  },
  503: {
    name: 'Unavailable',
    description: 'A service behind the gateway is unavailable, or this gateway is shutting down; retry',
    example: { code: 'unavailable', message: 'the gateway is shutting down', retryable: true },
  },
  504: {
    name: 'Timeout',
    description: 'A service behind the gateway did not answer in time; retry',
    example: { code: 'timeout', message: 'agent.get_run timed out', retryable: true },
  },
};

/** Response headers as @fastify/swagger takes them: a JSON schema each, its description lifted to the header. */
const REQUEST_ID = { type: 'string', description: "The request's id: the caller's `x-request-id` when sane, else a new one" };

const EXAMPLE_REQUEST_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function errorResponse(status: number): Record<string, unknown> {
  const e = ERRORS[status];
  if (!e) throw new Error(`openapi: no description of error status ${status}`);
  const headers: Record<string, unknown> = { 'x-request-id': REQUEST_ID };
  if (status === 401) headers['www-authenticate'] = { type: 'string', description: '`Bearer`' };
  if (status === 429) headers['retry-after'] = { type: 'integer', description: 'Seconds to wait' };
  return {
    description: e.description,
    headers,
    content: { 'application/json': { schema: { $ref: ERROR_SCHEMA_REF }, example: { error: { ...e.example, requestId: EXAMPLE_REQUEST_ID } } } },
  };
}

interface TransformInput {
  schema: FastifySchema | undefined;
  url: string;
  route: RouteOptions;
}

/** @fastify/swagger's `transform`: one route's schema as the document shows it. */
export function describeRoute({ schema, url, route }: TransformInput): { schema: FastifySchema; url: string } {
  const method = (Array.isArray(route.method) ? route.method[0] : route.method) ?? 'GET';
  const own = (schema ?? PLUGIN_ROUTES[`${method} ${url}`]) as Record<string, unknown> | undefined;
  // WebSocket upgrades are described in the info text; an undocumented route stays out rather than showing a bare 200.
  if (!own || own.hide === true || (route as { websocket?: boolean }).websocket) return { schema: { ...own, hide: true } as FastifySchema, url };
  const out: Record<string, unknown> = { ...own };
  const requires = requirementOf(route.preHandler);
  const statuses = new Set<number>(Array.isArray(out['x-parley-errors']) ? (out['x-parley-errors'] as number[]) : []);
  delete out['x-parley-errors'];
  const hasBody = out.body !== undefined;
  if (hasBody || out.params || out.querystring) statuses.add(400);
  if (out.params) statuses.add(404);
  if (hasBody) [413, 415].forEach((s) => statuses.add(s));
  if (requires) {
    out.security = [{ bearer: [] }, { queryToken: [] }];
    statuses.add(401);
    if (requires !== 'user') statuses.add(403);
    // Authenticated routes ask services over the bus, which can be down or slow.
    [503, 504].forEach((s) => statuses.add(s));
  } else out.security = [];
  statuses.add(500);
  const response: Record<string, unknown> = {};
  for (const [code, r] of Object.entries((out.response ?? {}) as Record<string, Record<string, unknown>>)) {
    response[code] = { ...r, headers: { 'x-request-id': REQUEST_ID, ...(r.headers as object | undefined) } };
  }
  for (const s of [...statuses].sort((a, b) => a - b)) response[s] ??= errorResponse(s);
  out.response = response;
  if (requires === 'staff' || requires === 'admin') {
    const role = requires === 'admin' ? 'the admin role' : 'the operator or admin role';
    out.description = [out.description, `Needs ${role}.`].filter(Boolean).join(' ');
  }
  out.operationId ??= operationIdOf(method, url);
  return { schema: out as FastifySchema, url };
}

/** `POST /api/v1/agents/:id/archive` → `postAgentsByIdArchive`: unique per method and path. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '/')
    .split('/')
    .filter(Boolean)
    .flatMap((seg) => (seg.startsWith(':') ? ['by', seg.slice(1)] : seg.split(/[^A-Za-z0-9]+/)));
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/**
 * @fastify/swagger's `transformObject`: every error answer in the one shape becomes a `$ref` to its one
 * definition under components.responses, so the document (and the client generated from it) states
 * each once rather than once per route.
 */
export const shareErrorResponses: SwaggerTransformObject = (document) => {
  if (!('openapiObject' in document)) return document.swaggerObject;
  const openapiObject = document.openapiObject as Record<string, unknown>;
  const components = (openapiObject.components ??= {}) as Record<string, Record<string, unknown>>;
  const shared = (components.responses ??= {});
  for (const pathItem of Object.values((openapiObject.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, unknown> }>>)) {
    for (const op of Object.values(pathItem)) {
      for (const [code, r] of Object.entries(op.responses ?? {})) {
        const e = ERRORS[Number(code)];
        const media = (r as { content?: Record<string, { schema?: { $ref?: string } }> }).content?.['application/json'];
        if (!e || media?.schema?.$ref !== ERROR_SCHEMA_REF) continue;
        // The first route's answer, as @fastify/swagger converted it (headers as OpenAPI header objects).
        shared[e.name] ??= r;
        op.responses![code] = { $ref: `#/components/responses/${e.name}` };
      }
    }
  }
  return openapiObject;
};
