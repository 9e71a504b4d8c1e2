import { sql, type SQL } from 'drizzle-orm';
import { customType, index, integer, jsonb, pgTable, real, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Text-search configurations the query service writes; PostgreSQL ships all three without extensions. */
export const knowledgeLanguages = ['english', 'spanish', 'simple'] as const;
export type KnowledgeLanguage = (typeof knowledgeLanguages)[number];

// drizzle has no tsvector/regconfig types. regconfig (not text) because the two-argument
// to_tsvector(regconfig, text) is IMMUTABLE, which a generated column requires.
const regconfig = customType<{ data: KnowledgeLanguage; driverData: string }>({ dataType: () => 'regconfig' });
const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/**
 * One row per ingested document. No foreign key to tenants: the tenant comes from the action's
 * envelope and knowledge must be loadable before an operator created the tenant row.
 */
export const knowledgeDocuments = pgTable(
  'knowledge_documents',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    knowledgeBaseId: text('knowledge_base_id').notNull().default('default'),
    title: text('title').notNull(),
    source: text('source'),
    language: regconfig('language').notNull(),
    /** sha256 of what was chunked and how; a re-ingest with the same hash changes nothing. */
    contentHash: text('content_hash').notNull(),
    embeddingModel: text('embedding_model').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    tokenCount: integer('token_count').notNull(),
    charCount: integer('char_count').notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Re-ingesting a source replaces it: the upsert target.
    uniqueIndex('knowledge_documents_source_uq')
      .on(t.tenantId, t.knowledgeBaseId, t.source)
      .where(sql`${t.source} is not null`),
    // The operator list, newest first, keyset-paged on (created_at, id).
    index('knowledge_documents_tenant_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
  ],
);

export const knowledgeChunks = pgTable(
  'knowledge_chunks',
  {
    id: text('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    knowledgeBaseId: text('knowledge_base_id').notNull(),
    documentId: text('document_id')
      .notNull()
      .references(() => knowledgeDocuments.id, { onDelete: 'cascade' }),
    ordinal: integer('ordinal').notNull(),
    /** Title and heading path of the chunk's section ("Guide › Refunds › Timing"). */
    heading: text('heading').notNull().default(''),
    text: text('text').notNull(),
    tokenCount: integer('token_count').notNull(),
    language: regconfig('language').notNull(),
    /** L2-normalised, so a dot product is the cosine; real[] works on any PostgreSQL (pgvector optional). */
    embedding: real('embedding').array().notNull(),
    // Headings weigh more than body text in ts_rank.
    tsv: tsvector('tsv')
      .notNull()
      .generatedAlwaysAs(
        (): SQL =>
          sql`setweight(to_tsvector(${knowledgeChunks.language}, ${knowledgeChunks.heading}), 'A') || setweight(to_tsvector(${knowledgeChunks.language}, ${knowledgeChunks.text}), 'B')`,
      ),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('knowledge_chunks_tsv_idx').using('gin', t.tsv),
    // "Recent chunks": the semantic side's candidates beyond the full-text ones.
    index('knowledge_chunks_tenant_recent_idx').on(t.tenantId, t.createdAt.desc()),
    index('knowledge_chunks_document_idx').on(t.documentId, t.ordinal),
  ],
);
