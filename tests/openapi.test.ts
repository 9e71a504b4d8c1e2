/**
 * The gateway's OpenAPI document is what a platform team generates a client from (issue 21): a valid
 * OpenAPI 3.1 document (checked by a real validator), every registered route in it with an operationId
 * and real responses, every error in the one shape; the typed client generated from it (committed in
 * apps/web/src/lib/gateway-api.ts, used by the web UI) is current, and drives real routes.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import createClient from 'openapi-fetch';
import { describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import type { paths } from '../apps/web/src/lib/gateway-api.js';
import { API_DOCUMENT_FILE, API_TYPES_FILE, formatDocument, generateApiTypes } from './support/openapi-client.js';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('openapi', { gateway: {} });
const admin = token({ sub: 'oa-admin', tenant: 'oa', roles: ['admin'] });

interface Response {
  description: string;
  content?: Record<string, { schema?: { $ref?: string } }>;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, Response | { $ref: string }>;
}
// A type, not an interface: the validator takes any JSON object (an index signature interfaces do not satisfy).
type Document = {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, Response> };
};

const fetchDocument = async (): Promise<Document> => {
  const res = await fetch(`${platform.gw.http}/docs/json`);
  expect(res.status).toBe(200);
  return (await res.json()) as Document;
};

/** Routes that are not API operations: Fastify's automatic HEADs, CORS preflight, the docs UI, the web UI's files and the WebSocket (described in info). */
const notOperations = (method: string, url: string) =>
  method === 'HEAD' || method === 'OPTIONS' || url === '/' || url === '/*' || url === '/docs' || url.startsWith('/docs/') || url === '/ws/chat';

describe('the OpenAPI document', () => {
  test('is valid OpenAPI 3.1 and documents every registered route with an operationId and its real responses', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');

    const routes = platform.gw.gw.routes.filter((r) => !notOperations(r.method, r.url));
    expect(routes.length).toBeGreaterThan(30);
    const ids: string[] = [];
    for (const { method, url } of routes) {
      const op = doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      const what = `${method} ${url}`;
      expect(op, `${what} is documented`).toBeDefined();
      if (!op) continue;
      expect(op.operationId, what).toMatch(/^[a-z][A-Za-z0-9]*$/);
      ids.push(op.operationId ?? '');
      expect(op.tags?.length, what).toBeGreaterThan(0);
      const statuses = Object.keys(op.responses);
      expect(
        statuses.some((s) => /^[23]\d\d$/.test(s)),
        `${what} has a success response`,
      ).toBe(true);
      expect(statuses, what).not.toContain('default');
      expect(statuses, `${what} documents its crash answer`).toContain('500');
      for (const [status, answer] of Object.entries(op.responses)) {
        // Error answers are shared: `$ref` to components.responses.
        const r = '$ref' in answer ? doc.components.responses[answer.$ref.replace('#/components/responses/', '')] : answer;
        expect(r, `${what} ${status} resolves`).toBeDefined();
        if (!r) continue;
        expect(r.description, `${what} ${status}`).not.toBe('Default Response');
        // Every error is the one shape, except a probe's not-ready answer, which is a probe body by design.
        if (Number(status) >= 400 && url !== '/readyz')
          expect(r.content?.['application/json']?.schema, `${what} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
      // A route behind authGuard says so, with its 401.
      if (op.security?.length) expect(statuses, what).toContain('401');
    }
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length);
    expect(doc.info.description).toContain('/ws/chat');
    // What the issue found missing: POST /runs answers 202, the upload takes multipart, the dev-token body is described.
    const paths = doc.paths as Record<string, Record<string, Operation & { requestBody?: { content: Record<string, unknown> } }>>;
    expect(Object.keys(paths['/api/v1/runs']!['post']!.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '404', '409', '422', '429']));
    expect(paths['/api/v1/runs']!['post']!.responses['200']).toBeUndefined();
    expect(Object.keys(paths['/api/v1/knowledge/documents']!['post']!.requestBody!.content)).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(paths['/api/v1/knowledge/documents']!['post']!.responses)).toEqual(expect.arrayContaining(['200', '201', '403', '413']));
    expect(Object.keys(paths['/api/v1/knowledge/documents/{id}']!['delete']!.responses)).toContain('204');
    expect(paths['/api/v1/dev/token']!['post']!.requestBody!.content['application/json']).toMatchObject({
      schema: { properties: { userId: {}, tenantId: {}, roles: {}, ttlSeconds: {} } },
    });
    expect(paths['/api/v1/runs/{id}/events']!['get']!.responses['200']).toMatchObject({ content: { 'text/event-stream': { schema: { type: 'string' } } } });
  });

  test('the committed document and generated client types are what the gateway serves (npm run api:types regenerates them)', async () => {
    const doc = await fetchDocument();
    // Generation works offline: openapi-typescript gets the document as an object, never a URL.
    const types = await generateApiTypes(doc);
    expect(types).toContain('export interface paths');
    expect(types).toContain("'/api/v1/runs/{id}': {");
    const message = 'out of date: run `npm run api:types` and commit the result';
    await expect(await formatDocument(doc), `${API_DOCUMENT_FILE} ${message}`).toMatchFileSnapshot(API_DOCUMENT_FILE);
    await expect(types, `${API_TYPES_FILE} ${message}`).toMatchFileSnapshot(API_TYPES_FILE);
  });
});

describe('the generated client drives the real routes', () => {
  test('create an agent, start a run with it, read the run to its end; a 404 in the one error shape', async () => {
    const api = createClient<paths>({ baseUrl: platform.gw.http, headers: { authorization: `Bearer ${admin}` } });

    const created = await api.POST('/api/v1/agents', {
      body: {
        agentId: 'typed',
        name: 'Typed',
        systemPrompt: 'You answer briefly.',
        greeting: '',
        model: 'parley-dev',
        temperature: 0.2,
        tools: [],
        flow: 'chat',
        doubleTexting: 'enqueue',
        maxRunMs: 60_000,
      },
    });
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ agentId: 'typed', version: 1, archived: false });

    const started = await api.POST('/api/v1/runs', { body: { agentId: 'typed', input: { text: 'hello there' } } });
    expect(started.response.status).toBe(202);
    const runId = started.data?.runId;
    expect(started.data).toEqual({ runId: expect.any(String), status: 'PENDING', eventsUrl: `/api/v1/runs/${runId}/events` });
    if (!runId) return;

    // The run's record, typed by the document (RunRecord), read until it is final.
    const run = await waitFor(
      async () => {
        const read = await api.GET('/api/v1/runs/{id}', { params: { path: { id: runId } } });
        expect(read.response.status).toBe(200);
        return read.data && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(read.data.status) ? read.data : undefined;
      },
      { timeoutMs: 20_000, what: 'the run to end' },
    );
    expect(run).toMatchObject({ runId, status: 'SUCCEEDED', agentId: 'typed' });
    const listed = await api.GET('/api/v1/runs', { params: { query: { agentId: 'typed' } } });
    expect(listed.data?.items.map((r) => r.runId)).toContain(runId);

    const missing = await api.GET('/api/v1/agents/{id}', { params: { path: { id: 'no-such-agent' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.data).toBeUndefined();
    expect(missing.error).toEqual({
      error: { code: 'not_found', message: expect.any(String), retryable: false, requestId: missing.response.headers.get('x-request-id') },
    });
  });
});
