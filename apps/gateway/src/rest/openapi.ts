/**
 * OpenAPI 3.1 at /docs (the document at /docs/json). Every route's schemas come from the zod schemas
 * its handler parses with (requests, io: 'input') and the catalog's reply schemas (responses, io:
 * 'output'), as JSON Schema 2020-12, the dialect of OpenAPI 3.1. They only document: Fastify's own
 * validation is off (zod in the handler is the one source of truth) and responses are plain
 * JSON.stringify, so nothing is silently stripped or coerced.
 *
 * `doc()` states what a route's own code knows (inputs, success answers, its own refusals); what every
 * route shares (auth answers, the error shape, request ids, operation ids) is added by `describeRoute`
 * (openapi-route.ts) from the route itself, so a new route cannot forget it.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { catalog, RestErrorBody, type Catalog } from '@parley/contracts';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';
import { API_DESCRIPTION } from './openapi-info.js';
import { jsonSchemaOf as jsonSchema } from './openapi-json-schema.js';
import { describeRoute, shareErrorResponses, type DocParts, type SuccessAnswer } from './openapi-route.js';

export type { DocParts };

/** A documented route's schema: tag, summary, and what `parts` says it takes and answers. */
export function doc(tag: string, summary: string, parts: DocParts = {}): FastifySchema {
  const schema: Record<string, unknown> = { tags: [tag], summary };
  if (parts.operationId) schema.operationId = parts.operationId;
  if (parts.description) schema.description = parts.description;
  if (parts.body) schema.body = requestBody(parts.body, parts.bodyExample);
  if (parts.content) schema.body = { content: Object.fromEntries(Object.entries(parts.content).map(([type, s]) => [type, { schema: toSchema(s) }])) };
  if (parts.params) schema.params = jsonSchema(parts.params, 'input');
  if (parts.querystring) schema.querystring = jsonSchema(parts.querystring, 'input');
  const status = parts.response ?? (parts.reply === null ? 204 : 200);
  const answers: Record<number, SuccessAnswer> = {
    [status]: { description: parts.replyDescription ?? defaultDescription(status), reply: parts.reply, example: parts.replyExample },
  };
  Object.assign(answers, parts.also);
  schema.response = Object.fromEntries(Object.entries(answers).map(([code, a]) => [code, successResponse(a)]));
  // Read by describeRoute: the error statuses the route's own code can answer (beyond the ones every route shares).
  if (parts.errors) schema['x-parley-errors'] = parts.errors;
  return schema as FastifySchema;
}

/** The reply schema of a bus action: what a route that answers that action's reply sends. */
export function replyOf<T extends keyof Catalog>(type: T): Catalog[T]['reply'] {
  return catalog[type].reply;
}

function toSchema(s: z.ZodType | Record<string, unknown>): Record<string, unknown> {
  return s instanceof z.ZodType ? jsonSchema(s, 'input') : s;
}

function requestBody(body: z.ZodType, example: unknown): Record<string, unknown> {
  const media: Record<string, unknown> = { schema: jsonSchema(body, 'input') };
  if (example !== undefined) media.example = example;
  return { content: { 'application/json': media } };
}

function defaultDescription(status: number): string {
  return status === 201 ? 'Created' : status === 202 ? 'Accepted' : status === 204 ? 'Done; no body' : 'OK';
}

function successResponse(a: SuccessAnswer): Record<string, unknown> {
  const out: Record<string, unknown> = { description: a.description };
  if (a.headers) out.headers = a.headers;
  if (a.reply === null) return { ...out, type: 'null' };
  if (a.content) return { ...out, content: a.content };
  const media: Record<string, unknown> = { schema: a.reply ? jsonSchema(a.reply, 'output') : {} };
  if (a.example !== undefined) media.example = a.example;
  return { ...out, content: { 'application/json': media } };
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Parley gateway', version: '1.0.0', description: API_DESCRIPTION },
      tags: [
        { name: 'runs', description: 'Start runs of flows, read them, stream their events, cancel them' },
        { name: 'agents', description: "The tenant's agents (staff read, admins change)" },
        { name: 'conversations', description: 'Conversations and their messages' },
        { name: 'knowledge', description: 'The knowledge base: documents and search' },
        { name: 'operators', description: 'Statistics for operators' },
        { name: 'channels', description: 'Chatwoot (WhatsApp and other inboxes)' },
        { name: 'auth', description: 'Sign-in (OIDC, in the browser) and development tokens' },
        { name: 'health', description: 'Probes for load balancers and orchestrators' },
      ],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // For clients that cannot set headers (a browser's EventSource or WebSocket): auth/token.ts reads it second.
          queryToken: { type: 'apiKey', in: 'query', name: 'token', description: 'The same JWT as `?token=`' },
        },
        schemas: { Error: jsonSchema(RestErrorBody, 'output') },
      },
    },
    transform: describeRoute,
    transformObject: shareErrorResponses,
    // The document keeps `const` (JSON Schema 2020-12 has it); it is what typed clients read literals from.
    convertConstToEnum: false,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
