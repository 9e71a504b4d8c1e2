/**
 * Builds the query service from the kit runService gives it: the database (checked and current),
 * the model, the stores, and the optional pgvector path.
 */
import type { Handlers } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { openDatabase, type Pool } from '@parley/db';
import { countTokens, createModelClient, createModelMetrics, type ModelClient } from '@parley/llm';
import type { ServiceKit } from '@parley/service-kit';
import type { Logger } from 'pino';
import { createLimiter } from './domain/limiter.js';
import type { QueryDeps } from './domain/ports.js';
import type { SearchDeps } from './domain/search.js';
import type { QueryConfig } from './env.js';
import { queryHandlers } from './handlers/index.js';
import { createChunkSearch } from './stores/chunk-search.js';
import { createDocumentStore } from './stores/document-store.js';
import { createLexemeStats } from './stores/lexeme-stats.js';
import { ensureVectorIndex, vectorExtensionInstalled } from './stores/vector-support.js';

export async function wire(kit: ServiceKit<QueryConfig>): Promise<Handlers<Catalog, 'query'>> {
  const { config, log } = kit;
  const database = await openDatabase(kit.base.databaseUrl, { max: config.db.poolMax, applicationName: `parley-query:${kit.base.instance}` });
  kit.onShutdown('postgres pool', () => database.close());
  kit.health.addCheck('postgres', () => database.readiness());

  const model = await createQueryModel(kit);
  const vectorDims = config.vector === 'auto' ? await tryVector(database.pool, model, log) : null;
  log.info({ vector: vectorDims !== null, vectorDims, chunking: config.chunking, embeddingModel: config.model.embeddingModel }, 'knowledge base ready');
  return queryHandlers(assembleDeps(config, database.pool, model, { vectorDims }));
}

/** The handlers' dependencies from parts; the benchmark calls it with its own pool and model. */
export function assembleDeps(config: QueryConfig, pool: Pool, model: ModelClient, opts: { vectorDims: number | null }): QueryDeps {
  const documents = createDocumentStore(pool);
  const count = (s: string) => countTokens(s, config.model.embeddingModel);
  const search: SearchDeps = {
    search: createChunkSearch(pool, { vectorDims: opts.vectorDims, cacheSize: config.embeddingCache }),
    lexemes: createLexemeStats(pool),
    model,
    settings: config.search,
  };
  return {
    documents,
    ingest: {
      store: documents,
      model,
      embeddingModel: config.model.embeddingModel,
      embedBatchSize: config.model.embedBatchSize,
      countTokens: count,
      chunking: config.chunking,
      limiter: createLimiter(config.ingest.concurrency),
    },
    search,
    answer: { ...search, countTokens: count, answer: config.answer },
  };
}

/**
 * The configured OpenAI-compatible server, or — in dev mode only, when none is configured — the
 * scripted dev model started in this process, announced loudly. Production never loads the dev
 * model: env.ts refuses production without MODEL_BASE_URL, and the import is dynamic.
 */
async function createQueryModel(kit: ServiceKit<QueryConfig>): Promise<ModelClient> {
  const m = kit.config.model;
  let baseURL = m.baseURL;
  if (baseURL === null) {
    const { startDevModelServer } = await import('@parley/llm/dev-server');
    const dev = await startDevModelServer({ port: 0 });
    kit.onShutdown('dev model', () => dev.close());
    baseURL = dev.url;
    kit.log.warn(
      { url: dev.url },
      'NO MODEL CONFIGURED: using the scripted dev model (hashed-word embeddings, echo answers); set MODEL_BASE_URL for real ones',
    );
  }
  return createModelClient({
    baseURL,
    apiKey: m.apiKey,
    model: m.name,
    embeddingModel: m.embeddingModel,
    embedBatchSize: m.embedBatchSize,
    timeoutMs: m.timeoutMs,
    maxRetries: m.maxRetries,
    observer: createModelMetrics(kit.metrics.registry),
  });
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
