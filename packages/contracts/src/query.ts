import { z } from 'zod';
import { Id, IsoDate } from './common.js';

export const IngestDocument = z
  .object({
    knowledgeBaseId: Id.optional(),
    title: z.string().min(1).max(512),
    text: z.string().max(5_000_000).optional(),
    markdown: z.string().max(5_000_000).optional(),
    /** Re-ingesting the same source replaces the document's chunks. */
    source: z.string().max(2048).optional(),
    language: z.enum(['english', 'spanish', 'simple']).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((d) => (d.text ?? d.markdown) !== undefined, { message: 'text or markdown is required', path: ['text'] });
export const DocumentInfo = z.object({
  documentId: Id,
  knowledgeBaseId: z.string(),
  title: z.string(),
  source: z.string().nullable(),
  chunks: z.number().int().nonnegative(),
  createdAt: IsoDate,
});
export type DocumentInfo = z.infer<typeof DocumentInfo>;
export const DeleteDocument = z.object({ documentId: Id });
export const DeleteDocumentReply = z.object({ documentId: Id, deleted: z.boolean() });
export const ListDocuments = z.object({ knowledgeBaseId: Id.optional(), cursor: z.string().max(512).optional(), limit: z.number().int().min(1).max(100).default(50) });
export const ListDocumentsReply = z.object({ items: z.array(DocumentInfo), nextCursor: z.string().nullable() });

export const SearchQuery = z.object({
  query: z.string().min(1).max(4_000),
  topK: z.number().int().min(1).max(50).default(5),
  knowledgeBaseId: Id.optional(),
  filters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export const SearchHit = z.object({
  chunkId: Id,
  documentId: Id,
  title: z.string(),
  source: z.string().nullable(),
  text: z.string(),
  score: z.number(),
});
export type SearchHit = z.infer<typeof SearchHit>;
export const SearchReply = z.object({ hits: z.array(SearchHit) });

export const AnswerQuestion = z.object({
  question: z.string().min(1).max(4_000),
  conversationContext: z.string().max(32_000).optional(),
  topK: z.number().int().min(1).max(20).default(5),
  knowledgeBaseId: Id.optional(),
});
export const AnswerReply = z.object({
  answer: z.string(),
  /** false when the knowledge base had nothing relevant; the answer then says so. */
  grounded: z.boolean(),
  citations: z.array(SearchHit),
});
