/**
 * Configuration of the query service: the only file that reads `process.env` (through service-kit).
 */
import { defineEnv, modeOf, modelConfigOf, modelEnvShape, modelProblems, type EnvOf } from '@parley/service-kit';
import { z } from 'zod';

const shape = {
  ...modelEnvShape,
  EMBEDDING_MODEL: z.string().min(1).max(128).optional(),
  EMBED_BATCH_SIZE: z.coerce.number().int().min(1).max(2048).default(64),
  QUERY_CHUNK_TOKENS: z.coerce.number().int().min(32).max(8_000).default(350),
  QUERY_CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).max(2_000).default(50),
  QUERY_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  QUERY_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  QUERY_TEXT_CANDIDATES: z.coerce.number().int().min(1).max(1_000).default(50),
  QUERY_RECENT_CANDIDATES: z.coerce.number().int().min(0).max(10_000).default(300),
  QUERY_COMMON_LEXEME_SHARE: z.coerce.number().min(0).max(1).default(0.05),
  QUERY_TEXT_SCAN_LIMIT: z.coerce.number().int().min(10).max(1_000_000).default(500),
  QUERY_MIN_SIMILARITY: z.coerce.number().min(-1).max(1).default(0.3),
  QUERY_EMBEDDING_CACHE: z.coerce.number().int().min(0).max(1_000_000).default(20_000),
  QUERY_RRF_K: z.coerce.number().int().min(1).max(1_000).default(60),
  QUERY_ANSWER_CONTEXT_TOKENS: z.coerce.number().int().min(256).max(100_000).default(3_000),
  QUERY_ANSWER_MAX_TOKENS: z.coerce.number().int().min(16).max(8_000).default(600),
  QUERY_VECTOR: z.enum(['auto', 'off']).default('auto'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
};

function group(e: EnvOf<typeof shape>) {
  return {
    model: {
      ...modelConfigOf(e),
      embeddingModel: e.EMBEDDING_MODEL ?? 'parley-dev-embed',
      embedBatchSize: e.EMBED_BATCH_SIZE,
      /** Given explicitly (production refuses to guess the embedding model). */
      embeddingModelSet: e.EMBEDDING_MODEL !== undefined,
    },
    chunking: { maxTokens: e.QUERY_CHUNK_TOKENS, overlapTokens: e.QUERY_CHUNK_OVERLAP_TOKENS },
    ingest: { concurrency: e.QUERY_INGEST_CONCURRENCY },
    worker: { concurrency: e.QUERY_WORKER_CONCURRENCY },
    search: {
      textCandidates: e.QUERY_TEXT_CANDIDATES,
      recentCandidates: e.QUERY_RECENT_CANDIDATES,
      minSimilarity: e.QUERY_MIN_SIMILARITY,
      rrfK: e.QUERY_RRF_K,
      commonLexemeShare: e.QUERY_COMMON_LEXEME_SHARE,
      textScanLimit: e.QUERY_TEXT_SCAN_LIMIT,
    },
    vector: e.QUERY_VECTOR,
    embeddingCache: e.QUERY_EMBEDDING_CACHE,
    answer: { contextTokens: e.QUERY_ANSWER_CONTEXT_TOKENS, maxTokens: e.QUERY_ANSWER_MAX_TOKENS },
    db: { poolMax: e.DB_POOL_MAX },
    production: modeOf(e) === 'production',
  };
}

export type QueryConfig = ReturnType<typeof group>;

/** Production must never embed with the scripted dev model, so a missing model is a config problem there. */
export function queryModelProblems(config: QueryConfig): string[] {
  const problems = modelProblems(config.model, config.production);
  if (config.production && !config.model.embeddingModelSet) problems.push('EMBEDDING_MODEL: is required in production mode (e.g. text-embedding-3-small)');
  return problems;
}

export const env = defineEnv(shape, group, queryModelProblems);
