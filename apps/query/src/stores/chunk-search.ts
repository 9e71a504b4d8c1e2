/**
 * Hybrid retrieval on any PostgreSQL, in two statements:
 *  1. candidates — full-text matches from the GIN index plus the tenant's most recent chunks
 *     (or, with pgvector, the nearest neighbours from its HNSW index), each with its embedding;
 *  2. details of the few that win the fusion (done in Node, fusion.ts).
 *
 * Full text without IDF ranks "account" as high as "chargeback", and an OR over common words
 * matches most of the table, which is what makes naive hybrid search slow at 100k chunks. So the
 * OR query leaves out the query's lexemes that are common in the table — frequencies come from the
 * planner's own statistics on the tsvector column (lexeme-stats.ts), no extension — and
 * the strict query (every word, websearch_to_tsquery: "quotes" and -exclusions work) is kept whole.
 * Both text-search configurations are tried, so a question finds documents of either language.
 */
import type { Pool } from 'pg';
import { realArrayLiteral } from './document-store.js';

export const SEARCH_LANGUAGES = ['english', 'spanish'] as const;

export interface CandidateParams {
  tenantId: string;
  query: string;
  /** null: full-text only (the embeddings endpoint failed). */
  embedding: readonly number[] | null;
  knowledgeBaseId?: string | undefined;
  filters?: Record<string, string | number | boolean> | undefined;
  textCandidates: number;
  recentCandidates: number;
  /** Lexemes too common to select anything (pg_stats); left out of the OR query, kept in the strict one. */
  commonLexemes: readonly string[];
  /** Most full-text matches ranked per query: bounds the cost when the rare words are not that rare. */
  textScanLimit: number;
}

export interface Candidate {
  id: string;
  /** ts_rank of the OR query; null when the chunk is only a semantic candidate. */
  textRank: number | null;
  /** Every word of the query matched, in at least one language. */
  strict: boolean;
  embedding: Float32Array | null;
}

export interface ChunkDetails {
  id: string;
  documentId: string;
  knowledgeBaseId: string;
  title: string;
  source: string | null;
  heading: string;
  ordinal: number;
  text: string;
}

// Weights of D, C, B, A: the heading path (A, which repeats the title on every chunk of a document)
// counts half as much as the body (B), so body words decide between sections of one document.
const RANK_WEIGHTS = '{0.1, 0.2, 1.0, 0.5}';
const STRICT = SEARCH_LANGUAGES.map((cfg) => `websearch_to_tsquery('${cfg}', $2)`).join(' || ');
const LEXEMES = SEARCH_LANGUAGES.map((cfg) => `to_tsvector('${cfg}', $2)`).join(' || ');
// $1 tenant, $2 query, $3 knowledge base, $4 metadata filter, $5 query embedding, $6 dims,
// $7 text candidates, $8 recent candidates, $9 common lexemes, $10 scan limit
const SCOPE = `c.tenant_id = $1 and ($3::text is null or c.knowledge_base_id = $3)
  and ($4::jsonb is null or exists (select 1 from knowledge_documents fd where fd.id = c.document_id and fd.tenant_id = $1 and fd.metadata @> $4::jsonb))`;

// The OR query: the question's lexemes minus the common ones ($9), or all of them when every one is common.
const QUERY_CTES = `lex as (select distinct unnest(tsvector_to_array(${LEXEMES})) as l),
  kept as (select l from lex where l <> all($9::text[])),
  q as (select ${STRICT} as strict,
    coalesce((select string_agg('''' || replace(replace(l, '\\', ''), '''', '''''') || '''', ' | ')
      from (select l from kept union all select l from lex where not exists (select 1 from kept)) k), '')::tsquery as loose)`;

// A strict match contains the rare lexemes too, so the OR query's matches already include it.
const TEXT_CTES = `matched as (select c.id, c.tsv from knowledge_chunks c, q where c.tsv @@ q.loose and ${SCOPE} limit $10),
  text_hits as (
    select m.id, ts_rank('${RANK_WEIGHTS}', m.tsv, q.loose) as rank, m.tsv @@ q.strict as strict
    from matched m, q order by 3 desc, 2 desc limit $7)`;

function semanticCte(vectorDims: number | null): string {
  if (vectorDims === null) {
    // DESC NULLS LAST matches the index (drizzle writes it so); plain DESC would sort the whole tenant.
    // No filter on the embedding's size here: it would read (detoast) every embedding of the tenant.
    // A chunk of another size simply gets no similarity (fusion.ts compares lengths).
    return `semantic as (select c.id from knowledge_chunks c where ${SCOPE} and $5::real[] is not null and $6::int > 0
    order by c.created_at desc nulls last limit $8)`;
  }
  // pgvector: the cast and the partial predicate must read exactly like the index's (vector-support.ts).
  const d = Math.trunc(vectorDims);
  return `semantic as (select c.id from knowledge_chunks c where ${SCOPE} and $5::real[] is not null and cardinality(c.embedding) = ${d}
    order by (c.embedding::vector(${d})) <=> $5::real[]::vector limit $8)`;
}

export function candidatesSql(vectorDims: number | null): string {
  return `with ${QUERY_CTES}, ${TEXT_CTES}, ${semanticCte(vectorDims)},
  pool as (select id from text_hits union select id from semantic)
  select p.id, t.rank::float8 as text_rank, coalesce(t.strict, false) as strict
  from pool p left join text_hits t on t.id = p.id`;
}

const EMBEDDINGS_SQL = `select id, encode(array_send(embedding), 'base64') as embedding from knowledge_chunks
  where tenant_id = $1 and id = any($2::text[])`;

const DETAILS_SQL = `select c.id, c.document_id, c.knowledge_base_id, c.heading, c.ordinal, c.text, d.title, d.source
  from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
  where c.tenant_id = $1 and c.id = any($2::text[])`;

interface CandidateRow {
  id: string;
  text_rank: number | null;
  strict: boolean;
}

interface DetailsRow {
  id: string;
  document_id: string;
  knowledge_base_id: string;
  heading: string;
  ordinal: number;
  text: string;
  title: string;
  source: string | null;
}

/**
 * A real[] in PostgreSQL's binary array format (array_send): ndim, flags, element type, then per
 * dimension size and lower bound, then per element its length and big-endian float4. Parsing it is
 * several times cheaper than parsing the text form of 384 floats.
 */
export function decodeRealArray(base64: string): Float32Array | null {
  const buf = Buffer.from(base64, 'base64');
  if (buf.length < 12 || buf.readInt32BE(0) !== 1) return null;
  const n = buf.readInt32BE(12);
  const out = new Float32Array(n);
  let off = 20;
  for (let i = 0; i < n; i++) {
    const len = buf.readInt32BE(off);
    off += 4;
    out[i] = len === 4 ? buf.readFloatBE(off) : 0;
    off += Math.max(len, 0);
  }
  return out;
}

/**
 * `vectorDims`: the pgvector index's dimensions when the extension is used, else null (real[] everywhere).
 * Embeddings are fetched in a second statement and cached by chunk id: a chunk id is never reused
 * with other content (a re-ingest makes new ids), so the cache cannot go stale, and the recent
 * chunks that every search scores are read from PostgreSQL once instead of on every search.
 */
export function createChunkSearch(pool: Pool, opts: { vectorDims: number | null; cacheSize?: number }) {
  const sql = candidatesSql(opts.vectorDims);
  const cache = createLru<Float32Array>(opts.cacheSize ?? 20_000);

  async function embeddings(tenantId: string, ids: string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = cache.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const res = await pool.query<{ id: string; embedding: string }>(EMBEDDINGS_SQL, [tenantId, missing]);
      for (const r of res.rows) {
        const v = decodeRealArray(r.embedding);
        if (!v) continue;
        cache.set(r.id, v);
        out.set(r.id, v);
      }
    }
    return out;
  }

  return {
    usesVector: opts.vectorDims !== null,
    async candidates(p: CandidateParams): Promise<Candidate[]> {
      const res = await pool.query<CandidateRow>(sql, [
        p.tenantId,
        p.query,
        p.knowledgeBaseId ?? null,
        p.filters && Object.keys(p.filters).length > 0 ? JSON.stringify(p.filters) : null,
        p.embedding ? realArrayLiteral(p.embedding) : null,
        p.embedding?.length ?? 0,
        p.textCandidates,
        p.recentCandidates,
        p.commonLexemes,
        p.textScanLimit,
      ]);
      const vectors = p.embedding
        ? await embeddings(
            p.tenantId,
            res.rows.map((r) => r.id),
          )
        : new Map<string, Float32Array>();
      return res.rows.map((r) => ({ id: r.id, textRank: r.text_rank, strict: r.strict, embedding: vectors.get(r.id) ?? null }));
    },
    async details(tenantId: string, ids: readonly string[]): Promise<Map<string, ChunkDetails>> {
      if (ids.length === 0) return new Map();
      const res = await pool.query<DetailsRow>(DETAILS_SQL, [tenantId, ids]);
      return new Map(
        res.rows.map((r) => [
          r.id,
          {
            id: r.id,
            documentId: r.document_id,
            knowledgeBaseId: r.knowledge_base_id,
            title: r.title,
            source: r.source,
            heading: r.heading,
            ordinal: r.ordinal,
            text: r.text,
          },
        ]),
      );
    },
  };
}

export type ChunkSearch = ReturnType<typeof createChunkSearch>;

/** A Map keeps insertion order: re-inserting on read makes the first key the least recently used. */
function createLru<V>(max: number) {
  const map = new Map<string, V>();
  return {
    get(key: string): V | undefined {
      const v = map.get(key);
      if (v !== undefined) {
        map.delete(key);
        map.set(key, v);
      }
      return v;
    },
    set(key: string, v: V): void {
      map.delete(key);
      map.set(key, v);
      if (map.size > max) map.delete(map.keys().next().value!);
    },
  };
}
