/**
 * Builds what the handlers use from the service kit: the PostgreSQL pool (checked and current),
 * the model, the stores, and the optional pgvector path. Fails with one line a human can act on.
 */
import { assertSchemaCurrent, createPool, type Pool } from '@parley/db';
import { countTokens, type ModelClient } from '@parley/llm';
import { safeUrl, type ServiceKit } from '@parley/service-kit';
import type { Logger } from 'pino';
import type { AnswerDeps } from './domain/answer.js';
import type { IngestDeps } from './domain/ingest.js';
import { createLimiter } from './domain/limiter.js';
import type { SearchDeps } from './domain/search.js';
import type { QueryConfig } from './env.js';
import { createQueryModel } from './model.js';
import { createChunkSearch } from './stores/chunk-search.js';
import { createDocumentStore, type DocumentStore } from './stores/document-store.js';
import { createLexemeStats } from './stores/lexeme-stats.js';
import { ensureVectorIndex, vectorExtensionInstalled } from './stores/vector-support.js';

export interface QueryDeps {
  documents: DocumentStore;
  ingest: IngestDeps;
  search: SearchDeps;
  answer: AnswerDeps;
}

/** Assembles the handlers' dependencies from parts; tests call it with their own pool and model. */
export function assembleDeps(config: QueryConfig, pool: Pool, model: ModelClient, opts: { vectorDims: number | null }): QueryDeps {
  const documents = createDocumentStore(pool);
  const count = (s: string) => countTokens(s, config.model.embeddingModel);
  const search: SearchDeps = { search: createChunkSearch(pool, { vectorDims: opts.vectorDims, cacheSize: config.embeddingCache }), lexemes: createLexemeStats(pool), model, settings: config.search };
  return {
    documents,
    ingest: { store: documents, model, embeddingModel: config.model.embeddingModel, embedBatchSize: config.model.embedBatchSize, countTokens: count, chunking: config.chunking, limiter: createLimiter(config.ingest.concurrency) },
    search,
    answer: { ...search, countTokens: count, answer: config.answer },
  };
}

export async function createQueryDeps(kit: ServiceKit<QueryConfig>): Promise<QueryDeps> {
  const { config, log } = kit;
  const pool = createPool(kit.base.databaseUrl, { max: config.db.poolMax, applicationName: `parley-query:${kit.base.instance}` });
  try {
    await pool.query('select 1');
  } catch (err) {
    log.fatal(`DATABASE_URL ${safeUrl(kit.base.databaseUrl)} is not reachable (${(err as Error).message}); start PostgreSQL or set DATABASE_URL`);
    process.exit(1);
  }
  try {
    await assertSchemaCurrent(pool);
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(1);
  }
  kit.onShutdown('postgres pool', () => pool.end());
  kit.health.addCheck('postgres', async () => {
    await pool.query('select 1');
  });

  const { model, close } = await createQueryModel(config, log);
  kit.onShutdown('dev model', close);
  const vectorDims = config.vector === 'auto' ? await tryVector(pool, model, log) : null;
  log.info({ vector: vectorDims !== null, vectorDims, chunking: config.chunking, embeddingModel: config.model.embeddingModel }, 'knowledge base ready');
  return assembleDeps(config, pool, model, { vectorDims });
}

/** pgvector when installed and the embedding size is known; any problem falls back to real[] scoring. */
async function tryVector(pool: Pool, model: ModelClient, log: Logger): Promise<number | null> {
  try {
    if (!(await vectorExtensionInstalled(pool))) return null;
    const [probe] = await model.embed(['dimension probe']);
    if (!probe?.length) return null;
    await ensureVectorIndex(pool, probe.length, log);
    return probe.length;
  } catch (err) {
    log.warn({ err }, 'pgvector is installed but could not be used; scoring embeddings over real[] instead');
    return null;
  }
}
