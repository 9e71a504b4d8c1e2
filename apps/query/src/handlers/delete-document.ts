import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { QueryDeps } from '../domain/ports.js';

export const deleteDocumentHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.delete_document'> =>
  async (data, ctx) => {
    // Chunks go with the document (ON DELETE CASCADE), in the same statement.
    const deleted = await deps.documents.deleteDocument(ctx.action.tenantId, data.documentId);
    ctx.log.info({ documentId: data.documentId, deleted }, 'document delete');
    return { documentId: data.documentId, deleted };
  };
