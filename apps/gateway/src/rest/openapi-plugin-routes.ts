/**
 * Documentation of the routes that shared plugins register without a schema (service-kit's probes):
 * the gateway documents them here rather than teaching service-kit about OpenAPI.
 */
import { z } from 'zod';
import { jsonSchemaOf } from './openapi-json-schema.js';

const Checks = z.record(z.string(), z.string()).describe('Each readiness check: `ok`, or why it failed');
const Ready = z.object({ status: z.literal('ready'), checks: Checks });
const NotReady = z.object({ status: z.literal('not_ready'), reasons: z.array(z.string()), checks: Checks });

const json = (s: z.ZodType, example: unknown) => ({ 'application/json': { schema: jsonSchemaOf(s, 'output'), example } });

export const PLUGIN_ROUTES: Record<string, Record<string, unknown>> = {
  'GET /healthz': {
    tags: ['health'],
    summary: 'Liveness: the process answers',
    operationId: 'getHealthz',
    response: { 200: { description: 'Alive', content: json(z.object({ status: z.literal('ok') }), { status: 'ok' }) } },
  },
  'GET /readyz': {
    tags: ['health'],
    summary: 'Readiness: Redis and the bus answer and the gateway is not draining',
    operationId: 'getReadyz',
    response: {
      200: { description: 'Ready to take traffic', content: json(Ready, { status: 'ready', checks: { shutdown: 'ok', redis: 'ok' } }) },
      503: {
        description: 'Not ready: `reasons` says why (this body is a probe answer, not an error)',
        content: json(NotReady, { status: 'not_ready', reasons: ['shutdown: shutting down'], checks: { shutdown: 'shutting down', redis: 'ok' } }),
      },
    },
  },
};
