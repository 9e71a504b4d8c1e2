/**
 * Hybrid retrieval in one SQL statement, on any PostgreSQL:
 *  - full-text candidates from the GIN index: the query's words OR-ed (a question shares only some
 *    words with its answer), ranked by ts_rank_cd, with a bonus when every word matches
 *    (websearch_to_tsquery, so "quotes" and -exclusions work);
 *  - semantic candidates: the full-text ones plus the tenant's most recent chunks, scored by the
 *    dot product of unit embeddings (= cosine), or by pgvector's HNSW index when installed;
 *  - reciprocal-rank fusion of both rankings: Σ 1 / (k + rank).
 * Both text-search configurations are tried, so a question finds documents of either language
 * without guessing which one it is in.
 */
import type { Pool } from 'pg';
import { realArrayLiteral } from './document-store.js';

export const SEARCH_LANGUAGES = ['english', 'spanish'] as const;

export interface SearchParams {
  tenantId: string;
  query: string;
  /** null: full-text only (the embeddings endpoint failed). */
  embedding: readonly number[] | null;
  topK: number;
  knowledgeBaseId?: string | undefined;
  filters?: Record<string, string | number | boolean> | undefined;
  textCandidates: number;
  recentCandidates: number;
  minSimilarity: number;
  rrfK: number;
}

export interface ChunkHit {
  chunkId: string;
  documentId: string;
  knowledgeBaseId: string;
  title: string;
  source: string | null;
  heading: string;
  ordinal: number;
  text: string;
  score: number;
  similarity: number | null;
  textRank: number | null;
  /** Every word of the query matched (in at least one language). */
  strictMatch: boolean;
}

interface HitRow {
  id: string;
  document_id: string;
  knowledge_base_id: string;
  title: string;
  source: string | null;
  heading: string;
  ordinal: number;
  text: string;
  score: number;
  similarity: number | null;
  text_rank: number | null;
  strict: boolean | null;
}

const orQuery = (cfg: string) => `replace(plainto_tsquery('${cfg}', $2)::text, ' & ', ' | ')::tsquery`;
const STRICT = SEARCH_LANGUAGES.map((cfg) => `websearch_to_tsquery('${cfg}', $2)`).join(' || ');
const LOOSE = SEARCH_LANGUAGES.map(orQuery).join(' || ');
// $1 tenant, $2 query, $3 knowledge base, $4 metadata filter, $5 query embedding, $6 dims,
// $7 text candidates, $8 recent candidates, $9 min similarity, $10 k, $11 topK
const SCOPE = `c.tenant_id = $1 and ($3::text is null or c.knowledge_base_id = $3)
  and ($4::jsonb is null or exists (select 1 from knowledge_documents fd where fd.id = c.document_id and fd.tenant_id = $1 and fd.metadata @> $4::jsonb))`;
// Weights of D, C, B, A: the heading path (A, which repeats the title on every chunk of a document)
// counts half as much as the body (B), so body words decide between sections of one document.
const RANK_WEIGHTS = '{0.1, 0.2, 1.0, 0.5}';
const DOT = `(select sum(a * b) from unnest(c.embedding, $5::real[]) as u(a, b))`;

function semanticCte(vectorDims: number | null): string {
  if (vectorDims === null) {
    return `recent as (select c.id from knowledge_chunks c where ${SCOPE} and $5::real[] is not null order by c.created_at desc limit $8),
  pool as (select id from text_hits where $5::real[] is not null union select id from recent),
  scored as (select c.id, ${DOT} as sim from knowledge_chunks c join pool p on p.id = c.id where cardinality(c.embedding) = $6)`;
  }
  // pgvector: the HNSW index over (embedding::vector(dims)) finds neighbours in all the tenant's chunks.
  // The cast must match the index expression exactly (a typmod cannot be a parameter), hence the literal.
  // The partial index's predicate must appear literally too, or the planner cannot use the index.
  const d = Math.trunc(vectorDims);
  const v = `(c.embedding::vector(${d}))`;
  return `ann as (select c.id, 1 - (${v} <=> $5::real[]::vector) as sim from knowledge_chunks c
    where ${SCOPE} and $5::real[] is not null and cardinality(c.embedding) = ${d} order by ${v} <=> $5::real[]::vector limit $8),
  scored as (select id, sim from ann union select c.id, ${DOT} as sim from knowledge_chunks c join text_hits t on t.id = c.id
    where $5::real[] is not null and cardinality(c.embedding) = $6)`;
}

function buildSql(vectorDims: number | null): string {
  return `with q as (select ${STRICT} as strict, ${LOOSE} as loose),
  text_hits as (
    select c.id, ts_rank_cd('${RANK_WEIGHTS}', c.tsv, q.loose) as rank, c.tsv @@ q.strict as strict
    from knowledge_chunks c, q where c.tsv @@ q.loose and ${SCOPE}
    order by (c.tsv @@ q.strict) desc, rank desc limit $7),
  ${semanticCte(vectorDims)},
  text_ranked as (select id, rank, strict, row_number() over (order by strict desc, rank desc) as r from text_hits),
  sem_ranked as (select id, row_number() over (order by sim desc) as r from scored where sim >= $9),
  fused as (
    select coalesce(t.id, s.id) as id, t.rank as text_rank, t.strict,
      coalesce(1.0 / ($10 + t.r), 0) + coalesce(1.0 / ($10 + s.r), 0) as score
    from text_ranked t full join sem_ranked s on s.id = t.id
    order by score desc limit $11)
  select f.id, f.score::float8 as score, f.text_rank::float8 as text_rank, f.strict, sc.sim::float8 as similarity,
    c.document_id, c.knowledge_base_id, c.heading, c.ordinal, c.text, d.title, d.source
  from fused f
  join knowledge_chunks c on c.id = f.id
  join knowledge_documents d on d.id = c.document_id
  left join scored sc on sc.id = f.id
  order by f.score desc, f.id`;
}

/** `vectorDims`: the pgvector index's dimensions when the extension is used, else null (real[] everywhere). */
export function createChunkSearch(pool: Pool, opts: { vectorDims: number | null }) {
  const sql = buildSql(opts.vectorDims);
  return {
    usesVector: opts.vectorDims !== null,
    async search(p: SearchParams): Promise<ChunkHit[]> {
      const res = await pool.query<HitRow>(sql, [
        p.tenantId,
        p.query,
        p.knowledgeBaseId ?? null,
        p.filters && Object.keys(p.filters).length > 0 ? JSON.stringify(p.filters) : null,
        p.embedding ? realArrayLiteral(p.embedding) : null,
        p.embedding?.length ?? 0,
        p.textCandidates,
        p.recentCandidates,
        p.minSimilarity,
        p.rrfK,
        p.topK,
      ]);
      return res.rows.map((r) => ({
        chunkId: r.id,
        documentId: r.document_id,
        knowledgeBaseId: r.knowledge_base_id,
        title: r.title,
        source: r.source,
        heading: r.heading,
        ordinal: r.ordinal,
        text: r.text,
        score: r.score,
        similarity: r.similarity,
        textRank: r.text_rank,
        strictMatch: r.strict === true,
      }));
    },
  };
}

export type ChunkSearch = ReturnType<typeof createChunkSearch>;
