/**
 * query.search: embed the question, fetch candidates (full text + recent or nearest), fuse the two
 * rankings, then load the few winners. When the embeddings endpoint is down, search still answers
 * from the full-text index and says so (`degraded`): a knowledge tool that fails outright hurts a
 * conversation more than one that ranks less well.
 */
import { ActionError, type SearchHit, type SearchQuery, type SearchReply } from '@parley/contracts';
import type { ModelClient } from '@parley/llm';
import type { Logger } from 'pino';
import type { ChunkDetails, ChunkSearch } from '../stores/chunk-search.js';
import type { LexemeStats } from '../stores/lexeme-stats.js';
import { fuse } from './fusion.js';
import { normalize } from './vectors.js';

export interface SearchSettings {
  textCandidates: number;
  recentCandidates: number;
  minSimilarity: number;
  rrfK: number;
  commonLexemeShare: number;
  textScanLimit: number;
}

export interface SearchDeps {
  search: ChunkSearch;
  lexemes: LexemeStats;
  model: ModelClient;
  settings: SearchSettings;
}

export interface ChunkHit extends ChunkDetails {
  score: number;
  similarity: number | null;
  textRank: number | null;
  strictMatch: boolean;
}

export interface Retrieval {
  hits: ChunkHit[];
  degraded?: string;
}

/** Embedding inputs past this are cut; the whole query still goes to the full-text side. */
const MAX_EMBED_CHARS = 8_000;

export async function retrieve(deps: SearchDeps, tenantId: string, q: SearchQuery, log: Logger, signal?: AbortSignal): Promise<Retrieval> {
  const query = q.query.trim();
  if (!query) throw new ActionError('invalid_payload', 'query is empty: send the words to look for', { details: { field: 'query' } });
  let embedding: number[] | null = null;
  let degraded: string | undefined;
  try {
    const [v] = await deps.model.embed([query.slice(0, MAX_EMBED_CHARS)], signal ? { signal } : {});
    embedding = v ? normalize(v) : null;
  } catch (err) {
    if (signal?.aborted) throw err;
    degraded = 'embeddings_unavailable';
    log.warn({ err }, 'query embedding failed; searching full text only');
  }
  const s = deps.settings;
  const candidates = await deps.search.candidates({
    tenantId,
    query,
    embedding,
    knowledgeBaseId: q.knowledgeBaseId,
    filters: q.filters,
    textCandidates: s.textCandidates,
    recentCandidates: s.recentCandidates,
    commonLexemes: await deps.lexemes.commonLexemes(s.commonLexemeShare),
    textScanLimit: s.textScanLimit,
  });
  const winners = fuse(candidates, embedding, { k: s.rrfK, minSimilarity: s.minSimilarity, topK: q.topK });
  const details = await deps.search.details(
    tenantId,
    winners.map((w) => w.id),
  );
  const hits: ChunkHit[] = [];
  for (const w of winners) {
    const d = details.get(w.id);
    // A chunk deleted between the two statements is simply not returned.
    if (d) hits.push({ ...d, score: w.score, similarity: w.similarity, textRank: w.textRank, strictMatch: w.strict });
  }
  return degraded ? { hits, degraded } : { hits };
}

export async function searchKnowledge(deps: SearchDeps, tenantId: string, q: SearchQuery, log: Logger, signal?: AbortSignal): Promise<SearchReply> {
  const r = await retrieve(deps, tenantId, q, log, signal);
  const hits = r.hits.map(toSearchHit);
  return r.degraded ? { hits, degraded: r.degraded } : { hits };
}

export function toSearchHit(h: ChunkHit): SearchHit {
  return {
    chunkId: h.id,
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
