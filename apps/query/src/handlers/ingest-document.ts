import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { ingestDocument } from '../domain/ingest.js';
import type { QueryDeps } from '../domain/ports.js';

export const ingestDocumentHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.ingest_document'> =>
  async (data, ctx) => {
    const started = performance.now();
    const info = await ingestDocument(deps.ingest, ctx.action.tenantId, data, ctx.signal);
    ctx.log.info({ documentId: info.documentId, chunks: info.chunks, outcome: info.outcome, ms: Math.round(performance.now() - started) }, 'document ingested');
    return info;
  };
