/**
 * Knowledge base routes, over the query service's actions. Reads for every user of the tenant,
 * writes (upload, delete) for admins. Uploads are JSON ({title, text | markdown, …}) or multipart
 * (a text or markdown file; a re-upload of the same file name replaces the document).
 */
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import { ActionError, Id, IngestDocument, ListDocuments, storable } from '@parley/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import type { GatewayContext } from '../context.js';
import { notFound, parse, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';

const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const INGEST_TIMEOUT_MS = 120_000;
const IdParams = z.object({ id: Id });
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ListQuery = ListDocuments.extend({ limit: int(1, 100).default(50) });
const SearchQuery = z.object({
  q: storable(z.string().trim().min(1, 'q is required').max(4_000)),
  topK: int(1, 50).default(5),
  knowledgeBaseId: Id.optional(),
});

/** The upload's documentation: a JSON body or a multipart form with one file; 201 for a new document, 200 for a replaced one. */
const UPLOAD_DOC = {
  operationId: 'uploadDocument',
  description: `JSON \`{title, text | markdown, source?, knowledgeBaseId?, language?}\`, or multipart/form-data with one \`file\` part (at most ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB) and the same fields as text parts. The same \`source\` replaces the document. Send \`Idempotency-Key\` to make a retry safe.`,
  content: {
    'application/json': IngestDocument,
    'multipart/form-data': {
      type: 'object',
      properties: {
        file: { type: 'string', contentMediaType: 'application/octet-stream', description: 'The document: text or markdown' },
        title: { type: 'string', description: "Default: the file's name" },
        source: { type: 'string', description: 'Default: `upload:<file name>`; an existing source is replaced' },
        knowledgeBaseId: { type: 'string' },
        language: { type: 'string' },
      },
    },
  },
  response: 201,
  reply: replyOf('query.ingest_document'),
  replyDescription: 'A new document',
  also: { 200: { description: 'A document of the same source was replaced', reply: replyOf('query.ingest_document') } },
};

export function registerKnowledgeRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const user = { preHandler: authGuard(ctx.verifier) };
  const admin = { preHandler: authGuard(ctx.verifier, { admin: true }) };
  const meta = (req: FastifyRequest) => {
    const p = principalOf(req);
    const m = { ...callerMeta(req), roles: p.roles };
    // A client retrying an upload with the same key gets the first result, not a second ingest.
    const key = req.headers['idempotency-key'];
    // Both parts are input (a token claim, a header): hashed as a pair, so two tenants never share an
    // action id (`a:b` + `c` is not `a` + `b:c`) and the id stays within the envelope's 128 characters.
    return typeof key === 'string' && key.length > 0 && key.length <= 128
      ? {
          ...m,
          actionId: `ingest:${createHash('sha256')
            .update(JSON.stringify([p.tenantId, key]))
            .digest('hex')}`,
        }
      : m;
  };

  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });
    scope.post(
      '/api/v1/knowledge/documents',
      {
        ...admin,
        bodyLimit: MAX_UPLOAD_BYTES + 64 * 1024,
        schema: doc('knowledge', 'Add or replace a document (JSON or a multipart text/markdown file)', UPLOAD_DOC),
      },
      async (req, reply) => {
        try {
          const input = req.isMultipart() ? await fromMultipart(req) : parse(IngestDocument, req.body);
          const info = await ctx.bus.call('query.ingest_document', input, meta(req), { timeoutMs: INGEST_TIMEOUT_MS });
          return reply.code(info.outcome === 'created' ? 201 : 200).send(info);
        } catch (err) {
          return sendError(reply, err);
        }
      },
    );
  });

  app.get(
    '/api/v1/knowledge/documents',
    {
      ...user,
      schema: doc('knowledge', "The tenant's documents", { operationId: 'listDocuments', querystring: ListQuery, reply: replyOf('query.list_documents') }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('query.list_documents', parse(ListQuery, req.query), meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.delete(
    '/api/v1/knowledge/documents/:id',
    { ...admin, schema: doc('knowledge', 'Delete a document and its chunks', { operationId: 'deleteDocument', params: IdParams, reply: null }) },
    async (req, reply) => {
      try {
        const { id } = parse(IdParams, req.params);
        const res = await ctx.bus.call('query.delete_document', { documentId: id }, meta(req));
        if (!res.deleted) throw notFound(`document ${id}`);
        return reply.code(204).send();
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );

  app.get(
    '/api/v1/knowledge/search',
    {
      ...user,
      schema: doc('knowledge', 'Hybrid search over the knowledge base', {
        operationId: 'searchKnowledge',
        querystring: SearchQuery,
        reply: replyOf('query.search'),
      }),
    },
    async (req, reply) => {
      try {
        const q = parse(SearchQuery, req.query);
        const data = q.knowledgeBaseId === undefined ? { query: q.q, topK: q.topK } : { query: q.q, topK: q.topK, knowledgeBaseId: q.knowledgeBaseId };
        return await ctx.bus.call('query.search', data, meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}

/** One file part (text or markdown) plus optional fields title, source, knowledgeBaseId, language. */
async function fromMultipart(req: FastifyRequest): Promise<z.input<typeof IngestDocument>> {
  const fields: Record<string, string> = {};
  let file: { name: string; type: string; body: string } | undefined;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') file = { name: part.filename, type: part.mimetype, body: (await part.toBuffer()).toString('utf8') };
      else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new ActionError('payload_too_large', `the file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB`);
    if (code?.startsWith('FST_')) throw new ActionError('invalid_payload', `unreadable multipart body: ${(err as Error).message}`);
    throw err;
  }
  if (!file) return parse(IngestDocument, fields); // a form without a file may still carry `text`
  const isMarkdown = /\.(md|markdown)$/i.test(file.name) || file.type === 'text/markdown';
  return parse(IngestDocument, {
    ...fields,
    title: fields.title ?? file.name,
    source: fields.source ?? `upload:${file.name}`,
    [isMarkdown ? 'markdown' : 'text']: file.body,
  });
}
