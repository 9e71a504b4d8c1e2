import type { AnswerDeps } from './answer.js';
import type { IngestDeps } from './ingest.js';
import type { SearchDeps } from './search.js';
import type { DocumentStore } from '../stores/document-store.js';

/** Everything the handlers use; built by wiring.ts (the service, the benchmark) from the config, a pool and a model. */
export interface QueryDeps {
  documents: DocumentStore;
  ingest: IngestDeps;
  search: SearchDeps;
  answer: AnswerDeps;
}
