/**
 * query.search: embed the question, run the hybrid SQL, shape the hits. When the embeddings endpoint
 * is down, search still answers from the full-text index and says so (`degraded`), because a
 * knowledge tool that fails outright is worse for a conversation than one that ranks less well.
 */
import { ActionError, type SearchHit, type SearchQuery, type SearchReply } from '@parley/contracts';
import type { ModelClient } from '@parley/llm';
import type { Logger } from 'pino';
import type { ChunkHit, ChunkSearch } from '../stores/chunk-search.js';
import { normalize } from './vectors.js';

export interface SearchDeps {
  search: ChunkSearch;
  model: ModelClient;
  settings: { textCandidates: number; recentCandidates: number; minSimilarity: number; rrfK: number };
  /** Longest query embedded, in characters; the full text still goes to the full-text side. */
  maxEmbedChars?: number;
}

export interface Retrieval {
  hits: ChunkHit[];
  degraded?: string;
}

export async function retrieve(deps: SearchDeps, tenantId: string, q: SearchQuery, log: Logger, signal?: AbortSignal): Promise<Retrieval> {
  const query = q.query.trim();
  if (!query) throw new ActionError('invalid_payload', 'query is empty: send the words to look for', { details: { field: 'query' } });
  let embedding: number[] | null = null;
  let degraded: string | undefined;
  try {
    const [v] = await deps.model.embed([query.slice(0, deps.maxEmbedChars ?? 8_000)], signal ? { signal } : {});
    embedding = v ? normalize(v) : null;
  } catch (err) {
    if (signal?.aborted) throw err;
    degraded = 'embeddings_unavailable';
    log.warn({ err }, 'query embedding failed; searching full text only');
  }
  const hits = await deps.search.search({ tenantId, query, embedding, topK: q.topK, knowledgeBaseId: q.knowledgeBaseId, filters: q.filters, ...deps.settings });
  return degraded ? { hits, degraded } : { hits };
}

export async function searchKnowledge(deps: SearchDeps, tenantId: string, q: SearchQuery, log: Logger, signal?: AbortSignal): Promise<SearchReply> {
  const r = await retrieve(deps, tenantId, q, log, signal);
  const hits = r.hits.map(toSearchHit);
  return r.degraded ? { hits, degraded: r.degraded } : { hits };
}

export function toSearchHit(h: ChunkHit): SearchHit {
  return {
    chunkId: h.chunkId,
    documentId: h.documentId,
    title: h.title,
    source: h.source,
    text: h.text,
    score: h.score,
    knowledgeBaseId: h.knowledgeBaseId,
    heading: h.heading,
    ordinal: h.ordinal,
    similarity: h.similarity,
    textRank: h.textRank,
  };
}
