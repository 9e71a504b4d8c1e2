import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { QueryDeps } from '../domain/ports.js';
import { answerHandler } from './answer.js';
import { deleteDocumentHandler } from './delete-document.js';
import { getDocumentHandler } from './get-document.js';
import { ingestDocumentHandler } from './ingest-document.js';
import { listDocumentsHandler } from './list-documents.js';
import { searchHandler } from './search.js';

/** Every query.* action; a missing one is a compile error. The tenant always comes from the envelope. */
export function queryHandlers(deps: QueryDeps): Handlers<Catalog, 'query'> {
  return {
    'query.ingest_document': ingestDocumentHandler(deps),
    'query.delete_document': deleteDocumentHandler(deps),
    'query.get_document': getDocumentHandler(deps),
    'query.list_documents': listDocumentsHandler(deps),
    'query.search': searchHandler(deps),
    'query.answer': answerHandler(deps),
  };
}
