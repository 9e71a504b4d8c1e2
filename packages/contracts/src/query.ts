import { z } from 'zod';
import { Id, IsoDate, Usage } from './common.js';
import { storable, storableJson } from './text.js';

export const KnowledgeLanguage = z.enum(['english', 'spanish', 'simple']);
export type KnowledgeLanguage = z.infer<typeof KnowledgeLanguage>;

/** Per-document override of the service's chunking defaults (QUERY_CHUNK_TOKENS, QUERY_CHUNK_OVERLAP_TOKENS). */
export const ChunkingOptions = z.object({
  maxTokens: z.number().int().min(32).max(8_000).optional(),
  overlapTokens: z.number().int().min(0).max(2_000).optional(),
});
export type ChunkingOptions = z.infer<typeof ChunkingOptions>;

export const IngestDocument = z
  .object({
    knowledgeBaseId: Id.optional(),
    title: storable(z.string().min(1).max(512)),
    text: storable(z.string().max(5_000_000)).optional(),
    markdown: storable(z.string().max(5_000_000)).optional(),
    /** Re-ingesting the same source replaces the document's chunks. */
    source: storable(z.string().max(2048)).optional(),
    /** Text-search configuration of the document; detected (English or Spanish) when absent. */
    language: KnowledgeLanguage.optional(),
    metadata: storableJson(z.record(z.string(), z.unknown())).optional(),
    chunking: ChunkingOptions.optional(),
  })
  .refine((d) => (d.text ?? d.markdown) !== undefined, { message: 'text or markdown is required', path: ['text'] });
export type IngestDocument = z.infer<typeof IngestDocument>;

export const DocumentInfo = z.object({
  documentId: Id,
  knowledgeBaseId: z.string(),
  title: z.string(),
  source: z.string().nullable(),
  chunks: z.number().int().nonnegative(),
  createdAt: IsoDate,
  language: KnowledgeLanguage.optional(),
  tokens: z.number().int().nonnegative().optional(),
  updatedAt: IsoDate.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** What an ingest did: a new document, a replaced source, or nothing (same content and chunking). */
  outcome: z.enum(['created', 'replaced', 'unchanged']).optional(),
});
export type DocumentInfo = z.infer<typeof DocumentInfo>;
/** One document with its passages (the chunks search and answers cite, by `ordinal`), to read a citation in place. */
export const GetDocument = z.object({ documentId: Id });
export type GetDocument = z.infer<typeof GetDocument>;
export const DocumentPassage = z.object({ ordinal: z.number().int().nonnegative(), heading: z.string(), text: z.string() });
export const DocumentWithPassages = DocumentInfo.extend({ passages: z.array(DocumentPassage) });
export type DocumentWithPassages = z.infer<typeof DocumentWithPassages>;
export const DeleteDocument = z.object({ documentId: Id });
export type DeleteDocument = z.infer<typeof DeleteDocument>;
export const DeleteDocumentReply = z.object({ documentId: Id, deleted: z.boolean() });
export const ListDocuments = z.object({
  knowledgeBaseId: Id.optional(),
  cursor: storable(z.string().max(512)).optional(),
  limit: z.number().int().min(1).max(100).default(50),
});
export type ListDocuments = z.infer<typeof ListDocuments>;
export const ListDocumentsReply = z.object({ items: z.array(DocumentInfo), nextCursor: z.string().nullable() });
export type ListDocumentsReply = z.infer<typeof ListDocumentsReply>;

export const SearchQuery = z.object({
  query: storable(z.string().min(1).max(4_000)),
  topK: z.number().int().min(1).max(50).default(5),
  knowledgeBaseId: Id.optional(),
  /** Exact matches on the document's metadata (`{"product": "pro"}`). */
  filters: storableJson(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))).optional(),
});
export type SearchQuery = z.infer<typeof SearchQuery>;
export const SearchHit = z.object({
  chunkId: Id,
  documentId: Id,
  title: z.string(),
  source: z.string().nullable(),
  text: z.string(),
  /** Reciprocal-rank fusion of the full-text and embedding rankings; only comparable within one reply. */
  score: z.number(),
  knowledgeBaseId: z.string().optional(),
  /** Heading path of the chunk's section. */
  heading: z.string().optional(),
  ordinal: z.number().int().nonnegative().optional(),
  /** Cosine similarity of query and chunk embeddings (-1…1), when computed. */
  similarity: z.number().nullable().optional(),
  /** ts_rank_cd of the full-text match; null when the chunk matched on meaning only. */
  textRank: z.number().nullable().optional(),
});
export type SearchHit = z.infer<typeof SearchHit>;
export const SearchReply = z.object({
  hits: z.array(SearchHit),
  /** Set when part of the retrieval was skipped, e.g. `embeddings_unavailable` (full-text only). */
  degraded: z.string().optional(),
});
export type SearchReply = z.infer<typeof SearchReply>;

export const AnswerQuestion = z.object({
  question: storable(z.string().min(1).max(4_000)),
  conversationContext: storable(z.string().max(32_000)).optional(),
  topK: z.number().int().min(1).max(20).default(5),
  knowledgeBaseId: Id.optional(),
});
export type AnswerQuestion = z.infer<typeof AnswerQuestion>;
export const AnswerReply = z.object({
  answer: z.string(),
  /** false when the knowledge base had nothing relevant; the answer then says so. */
  grounded: z.boolean(),
  citations: z.array(SearchHit),
  model: z.string().optional(),
  usage: Usage.nullable().optional(),
});
export type AnswerReply = z.infer<typeof AnswerReply>;
