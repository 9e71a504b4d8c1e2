/**
 * OpenAPI at /docs. Route schemas are generated from the zod schemas that the handlers parse with,
 * and only document: Fastify's own validation is switched off (zod is the one source of truth),
 * and responses are plain JSON.stringify so nothing is silently stripped.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';

export function doc(
  tag: string,
  summary: string,
  parts: { body?: z.ZodType; params?: z.ZodType; querystring?: z.ZodType; response?: number } = {},
): FastifySchema {
  const schema: FastifySchema & { tags: string[]; summary: string; security: Array<Record<string, string[]>> } = {
    tags: [tag],
    summary,
    security: [{ bearer: [] }],
  };
  if (parts.body) schema.body = jsonSchema(parts.body);
  if (parts.params) schema.params = jsonSchema(parts.params);
  if (parts.querystring) schema.querystring = jsonSchema(parts.querystring);
  return schema;
}

function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Parley gateway',
        version: '1.0.0',
        description: 'REST API of the Parley gateway. The chat WebSocket is at /ws/chat (see apps/gateway/README.md).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
