/**
 * Knowledge base routes, over the query service's actions. Reads (list, search, answer) for every
 * user of the tenant, writes (upload, delete) for admins. An upload is JSON text, JSON `{url}` or a
 * multipart file (PDF, DOCX, HTML, Markdown, text); knowledge/upload.ts turns each into text.
 */
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import { AnswerQuestion, Id, IngestDocument, ListDocuments, storable } from '@parley/contracts';
import { OutboundGuard } from '@parley/service-kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { authGuard, callerMeta, principalOf } from '../auth/guard.js';
import type { GatewayContext } from '../context.js';
import { ALLOWED_TYPES } from '../knowledge/document-types.js';
import { UploadIdempotency } from '../knowledge/upload-idempotency.js';
import { IngestUrl, largestLimit, readUpload, type Upload } from '../knowledge/upload.js';
import { IdempotencyKey } from '../runs/run-idempotency.js';
import { notFound, parse, parseHeader, sendError } from './errors.js';
import { doc, replyOf } from './openapi.js';

const INGEST_TIMEOUT_MS = 120_000;
const IdParams = z.object({ id: Id });
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const ListQuery = ListDocuments.extend({ limit: int(1, 100).default(50) });
const SearchQuery = z.object({
  q: storable(z.string().trim().min(1, 'q is required').max(4_000)),
  topK: int(1, 50).default(5),
  knowledgeBaseId: Id.optional(),
});
const AnswerBody = AnswerQuestion.pick({ question: true, topK: true, knowledgeBaseId: true });

/** The upload's documentation: JSON text, JSON `{url}`, or a multipart file; 201 for a new document, 200 for a replaced one. */
const uploadDoc = (ctx: GatewayContext) => {
  const max = ctx.config.knowledge.maxBytes;
  const mib = (n: number) => `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  return {
    operationId: 'uploadDocument',
    description: `JSON \`{title, text | markdown, source?, knowledgeBaseId?, language?}\`; JSON \`{url, title?, knowledgeBaseId?, language?}\` to fetch a document from the web (title from the document, the URL kept as its \`source\` for citations); or multipart/form-data with one \`file\` part and the same fields as text parts. Documents may be ${ALLOWED_TYPES.join(', ')} (the type and the bytes must agree, else 415), at most ${mib(max.pdf)} for a PDF, ${mib(max.docx)} for DOCX, ${mib(max.text)} for the text types (else 413). The same \`source\` replaces the document. Send \`Idempotency-Key\` to make a retry safe; the same key with another body is a 422.`,
    content: {
      'application/json': z.union([IngestDocument, IngestUrl]),
      'multipart/form-data': {
        type: 'object',
        properties: {
          file: { type: 'string', contentMediaType: 'application/octet-stream', description: `The document: ${ALLOWED_TYPES.join(', ')}` },
          title: { type: 'string', description: "Default: the document's own title, else the file's name" },
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
    errors: [413, 415, 422],
  };
};

export function registerKnowledgeRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const user = { preHandler: authGuard(ctx.verifier) };
  const admin = { preHandler: authGuard(ctx.verifier, { admin: true }) };
  const guard = new OutboundGuard(ctx.config.outbound);
  app.addHook('onClose', async () => guard.close());
  const claims = new UploadIdempotency(ctx.redis, ctx.base.busPrefix);
  const limits = ctx.config.knowledge;
  const meta = (req: FastifyRequest) => ({ ...callerMeta(req), roles: principalOf(req).roles });

  /** Ingests the upload; under an Idempotency-Key, once per key and body (upload-idempotency.ts). */
  const ingestOnce = async (req: FastifyRequest, upload: Upload, key: string | undefined) => {
    const call = (actionId?: string) =>
      ctx.bus.call('query.ingest_document', upload.input, actionId ? { ...meta(req), actionId } : meta(req), { timeoutMs: INGEST_TIMEOUT_MS });
    if (key === undefined) return call();
    const tenantId = principalOf(req).tenantId;
    await claims.claim(tenantId, key, upload.hash);
    try {
      // The action id names tenant, key and body: the bus answers a retry with the first ingest's reply.
      return await call(
        `ingest:${createHash('sha256')
          .update(JSON.stringify([tenantId, key, upload.hash]))
          .digest('hex')}`,
      );
    } catch (err) {
      await claims.release(tenantId, key, upload.hash);
      throw err;
    }
  };

  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: largestLimit(limits), files: 1, fields: 10 } });
    scope.post(
      '/api/v1/knowledge/documents',
      {
        ...admin,
        bodyLimit: largestLimit(limits) + 64 * 1024,
        schema: doc('knowledge', 'Add or replace a document (JSON text, a URL, or a PDF, DOCX, HTML, Markdown or text file)', uploadDoc(ctx)),
      },
      async (req, reply) => {
        try {
          const header = req.headers['idempotency-key'];
          const key = header === undefined ? undefined : parseHeader(IdempotencyKey, 'Idempotency-Key', header);
          const upload = await readUpload({ guard, limits }, req);
          const info = await ingestOnce(req, upload, key);
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

  app.get(
    '/api/v1/knowledge/documents/:id',
    {
      ...user,
      schema: doc('knowledge', 'One document with its passages (what search hits and citations point at, by `ordinal`)', {
        operationId: 'getDocument',
        params: IdParams,
        reply: replyOf('query.get_document'),
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('query.get_document', { documentId: parse(IdParams, req.params).id }, meta(req));
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

  app.post(
    '/api/v1/knowledge/answer',
    {
      ...user,
      schema: doc('knowledge', 'A grounded answer with citations from the knowledge base', {
        operationId: 'answerQuestion',
        description:
          'Retrieves the passages most relevant to `question`, and asks the model to answer from them only. `grounded: false` (and no citations) when the knowledge base has nothing relevant: the answer then says so instead of guessing.',
        body: AnswerBody,
        bodyExample: { question: 'How long do I have to return an item?', topK: 5 },
        reply: replyOf('query.answer'),
        errors: [502],
      }),
    },
    async (req, reply) => {
      try {
        return await ctx.bus.call('query.answer', parse(AnswerBody, req.body), meta(req));
      } catch (err) {
        return sendError(reply, err);
      }
    },
  );
}
