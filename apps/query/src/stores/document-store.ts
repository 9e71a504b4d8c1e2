/**
 * knowledge_documents + knowledge_chunks writes and operator reads. Every statement carries the
 * tenant id it was given; callers pass the envelope's tenant, never one from a payload.
 */
import type { KnowledgeLanguage } from '@parley/contracts';
import { uuidv7 } from '@parley/bus';
import type { Pool, PoolClient } from 'pg';
import { createYielder } from '../domain/chunking/yielder.js';

export interface StoredDocument {
  id: string;
  knowledgeBaseId: string;
  title: string;
  source: string | null;
  language: KnowledgeLanguage;
  contentHash: string;
  chunkCount: number;
  tokenCount: number;
  metadata: Record<string, unknown>;
  createdAt: Date;
  /** created_at with its microseconds, which a JS Date would drop: the list's keyset. */
  createdAtText: string;
  updatedAt: Date;
}

export interface NewDocument {
  tenantId: string;
  knowledgeBaseId: string;
  title: string;
  source: string | null;
  language: KnowledgeLanguage;
  contentHash: string;
  embeddingModel: string;
  tokenCount: number;
  charCount: number;
  metadata: Record<string, unknown>;
}

export interface StoredPassage {
  ordinal: number;
  heading: string;
  text: string;
}

export interface NewChunk {
  ordinal: number;
  heading: string;
  text: string;
  tokenCount: number;
  embedding: readonly number[];
}

const DOC_COLUMNS = `id, knowledge_base_id, title, source, language::text as language, content_hash, chunk_count, token_count, metadata, created_at, updated_at,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_text`;
/** Rows per INSERT … SELECT FROM unnest(…): big enough to amortise round trips, small enough to yield between. */
const INSERT_BATCH = 200;

interface DocRow {
  id: string;
  knowledge_base_id: string;
  title: string;
  source: string | null;
  language: KnowledgeLanguage;
  content_hash: string;
  chunk_count: number;
  token_count: number;
  metadata: Record<string, unknown>;
  created_at: Date;
  created_at_text: string;
  updated_at: Date;
}

function toDocument(r: DocRow): StoredDocument {
  return {
    id: r.id,
    knowledgeBaseId: r.knowledge_base_id,
    title: r.title,
    source: r.source,
    language: r.language,
    contentHash: r.content_hash,
    chunkCount: r.chunk_count,
    tokenCount: r.token_count,
    metadata: r.metadata,
    createdAt: r.created_at,
    createdAtText: r.created_at_text,
    updatedAt: r.updated_at,
  };
}

export function createDocumentStore(pool: Pool) {
  return {
    async findBySource(tenantId: string, knowledgeBaseId: string, source: string): Promise<StoredDocument | null> {
      const res = await pool.query<DocRow>(`select ${DOC_COLUMNS} from knowledge_documents where tenant_id = $1 and knowledge_base_id = $2 and source = $3`, [
        tenantId,
        knowledgeBaseId,
        source,
      ]);
      return res.rows[0] ? toDocument(res.rows[0]) : null;
    },

    /**
     * Writes a document and all its chunks in one transaction. A document with a source replaces
     * the previous version of that source (same id, chunks swapped), so readers see the old version
     * or the new one, never a mix, and a crash leaves the old one intact.
     */
    async replaceDocument(doc: NewDocument, chunks: readonly NewChunk[]): Promise<{ document: StoredDocument; replaced: boolean }> {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const res = await client.query<DocRow & { inserted: boolean }>(
          `insert into knowledge_documents as d (id, tenant_id, knowledge_base_id, title, source, language, content_hash, embedding_model, chunk_count, token_count, char_count, metadata)
           values ($1, $2, $3, $4, $5, $6::regconfig, $7, $8, $9, $10, $11, $12)
           on conflict (tenant_id, knowledge_base_id, source) where source is not null do update set
             title = excluded.title, language = excluded.language, content_hash = excluded.content_hash,
             embedding_model = excluded.embedding_model, chunk_count = excluded.chunk_count, token_count = excluded.token_count,
             char_count = excluded.char_count, metadata = excluded.metadata, updated_at = now()
           returning ${DOC_COLUMNS}, (xmax = 0) as inserted`,
          [
            uuidv7(),
            doc.tenantId,
            doc.knowledgeBaseId,
            doc.title,
            doc.source,
            doc.language,
            doc.contentHash,
            doc.embeddingModel,
            chunks.length,
            doc.tokenCount,
            doc.charCount,
            doc.metadata,
          ],
        );
        const row = res.rows[0]!;
        if (!row.inserted) await client.query('delete from knowledge_chunks where document_id = $1', [row.id]);
        await insertChunks(client, { tenantId: doc.tenantId, knowledgeBaseId: doc.knowledgeBaseId, documentId: row.id, language: doc.language }, chunks);
        await client.query('commit');
        return { document: toDocument(row), replaced: !row.inserted };
      } catch (err) {
        await client.query('rollback').catch(() => {
          /* the original error is rethrown below; a failed rollback ends with the connection */
        });
        throw err;
      } finally {
        client.release();
      }
    },

    /** The document and its chunks in reading order, or null for an unknown id or another tenant's. */
    async getDocument(tenantId: string, documentId: string): Promise<{ document: StoredDocument; passages: StoredPassage[] } | null> {
      const doc = await pool.query<DocRow>(`select ${DOC_COLUMNS} from knowledge_documents where tenant_id = $1 and id = $2`, [tenantId, documentId]);
      if (!doc.rows[0]) return null;
      const chunks = await pool.query<StoredPassage>(
        'select ordinal, heading, text from knowledge_chunks where tenant_id = $1 and document_id = $2 order by ordinal',
        [tenantId, documentId],
      );
      return { document: toDocument(doc.rows[0]), passages: chunks.rows };
    },

    async deleteDocument(tenantId: string, documentId: string): Promise<boolean> {
      const res = await pool.query('delete from knowledge_documents where tenant_id = $1 and id = $2', [tenantId, documentId]);
      return (res.rowCount ?? 0) > 0;
    },

    /** Newest first, keyset-paged on (created_at, id) so pages stay stable while documents are added. */
    async listDocuments(
      tenantId: string,
      opts: { knowledgeBaseId?: string | undefined; limit: number; after?: { createdAt: string; id: string } | undefined },
    ): Promise<StoredDocument[]> {
      const params: unknown[] = [tenantId, opts.knowledgeBaseId ?? null, opts.limit];
      let keyset = '';
      if (opts.after) {
        params.push(opts.after.createdAt, opts.after.id);
        keyset = 'and (created_at, id) < ($4::timestamptz, $5)';
      }
      const res = await pool.query<DocRow>(
        `select ${DOC_COLUMNS} from knowledge_documents
         where tenant_id = $1 and ($2::text is null or knowledge_base_id = $2) ${keyset}
         order by created_at desc, id desc limit $3`,
        params,
      );
      return res.rows.map(toDocument);
    },
  };
}

export type DocumentStore = ReturnType<typeof createDocumentStore>;

export interface ChunkOwner {
  tenantId: string;
  knowledgeBaseId: string;
  documentId: string;
  language: KnowledgeLanguage;
}

/**
 * Bulk insert through unnest(): one statement and six parameters per batch instead of thousands of
 * placeholders. Embeddings travel as real[] literals with 6 decimals: they are unit vectors, and
 * float4 keeps about as much.
 * Also used by the benchmark to load 100k chunks.
 */
export async function insertChunks(client: Pool | PoolClient, owner: ChunkOwner, chunks: readonly NewChunk[], opts: { createdAt?: Date } = {}): Promise<void> {
  const yielder = createYielder();
  for (let i = 0; i < chunks.length; i += INSERT_BATCH) {
    const batch = chunks.slice(i, i + INSERT_BATCH);
    await client.query(
      `insert into knowledge_chunks (id, tenant_id, knowledge_base_id, document_id, ordinal, heading, text, token_count, language, embedding, created_at)
       select u.id, $1, $2, $3, u.ordinal, u.heading, u.text, u.tokens, $4::regconfig, u.embedding::real[], $10
       from unnest($5::text[], $6::int[], $7::text[], $8::text[], $9::int[], $11::text[]) as u(id, ordinal, heading, text, tokens, embedding)`,
      [
        owner.tenantId,
        owner.knowledgeBaseId,
        owner.documentId,
        owner.language,
        batch.map(() => uuidv7()),
        batch.map((c) => c.ordinal),
        batch.map((c) => c.heading),
        batch.map((c) => c.text),
        batch.map((c) => c.tokenCount),
        opts.createdAt ?? new Date(),
        batch.map((c) => realArrayLiteral(c.embedding)),
      ],
    );
    await yielder.maybeYield();
  }
}

export function realArrayLiteral(v: readonly number[]): string {
  let s = '{';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) s += ',';
    const x = v[i]!;
    s += Number.isFinite(x) ? x.toFixed(6) : '0';
  }
  return `${s}}`;
}
