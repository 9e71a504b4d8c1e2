/**
 * Configuration of the query service: the only file that reads `process.env` (through service-kit).
 */
import { defineEnv, envInt, type EnvDefinition } from '@parley/service-kit';
import { z } from 'zod';

const modelUrl = z.string().refine(
  (s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { message: 'expected a URL like https://api.openai.com/v1 or http://127.0.0.1:11434/v1' },
);

export const env = defineEnv(
  {
    MODEL_BASE_URL: modelUrl.optional(),
    MODEL_API_KEY: z.string().min(1).optional(),
    MODEL_NAME: z.string().min(1).max(128).optional(),
    EMBEDDING_MODEL: z.string().min(1).max(128).optional(),
    MODEL_TIMEOUT_MS: envInt(60_000),
    MODEL_MAX_RETRIES: envInt(2),
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
  },
  (e) => ({
    model: {
      /** null: no model configured (dev mode starts the scripted dev model in-process; production refuses). */
      baseURL: e.MODEL_BASE_URL ?? null,
      // Local OpenAI-compatible servers accept any non-empty key.
      apiKey: e.MODEL_API_KEY ?? 'not-needed',
      name: e.MODEL_NAME ?? 'parley-dev',
      embeddingModel: e.EMBEDDING_MODEL ?? 'parley-dev-embed',
      timeoutMs: e.MODEL_TIMEOUT_MS,
      maxRetries: e.MODEL_MAX_RETRIES,
      embedBatchSize: e.EMBED_BATCH_SIZE,
      /** Given explicitly (production refuses to guess the embedding model). */
      embeddingModelSet: e.EMBEDDING_MODEL !== undefined,
      nameSet: e.MODEL_NAME !== undefined,
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
    production: (e.PARLEY_MODE ?? (e.NODE_ENV === 'production' ? 'production' : 'dev')) === 'production',
  }),
);

export type QueryConfig = typeof env extends EnvDefinition<infer C> ? C : never;

/** Production must never embed with the scripted dev model, so a missing model is a config problem there. */
export function modelProblems(config: QueryConfig): string[] {
  if (!config.production) return [];
  const problems: string[] = [];
  if (!config.model.baseURL) problems.push('MODEL_BASE_URL: is required in production mode (e.g. https://api.openai.com/v1)');
  if (!config.model.nameSet) problems.push('MODEL_NAME: is required in production mode (e.g. gpt-4o-mini)');
  if (!config.model.embeddingModelSet) problems.push('EMBEDDING_MODEL: is required in production mode (e.g. text-embedding-3-small)');
  return problems;
}
