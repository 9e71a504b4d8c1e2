import type { Handler } from '@parley/bus';
import { ActionError, type Catalog } from '@parley/contracts';
import { toInfo } from '../domain/ingest.js';
import type { QueryDeps } from '../domain/ports.js';

export const getDocumentHandler =
  (deps: QueryDeps): Handler<Catalog, 'query.get_document'> =>
  async (data, ctx) => {
    const found = await deps.documents.getDocument(ctx.action.tenantId, data.documentId);
    // Another tenant's document and an unknown id answer alike.
    if (!found) throw new ActionError('not_found', `no document ${data.documentId}`);
    return { ...toInfo(found.document), passages: found.passages };
  };
