/**
 * Ingestion: chunk on structure → embed in batches → one transaction. Everything that can fail
 * slowly (the model) happens before the transaction opens, so a failure stores nothing and a
 * transaction never waits on the network.
 */
import { createHash } from 'node:crypto';
import { ActionError, type DocumentInfo, type IngestDocument } from '@parley/contracts';
import type { ModelClient } from '@parley/llm';
import { chunkDocument, type Chunk, type ChunkingConfig, type TokenCounter } from './chunking/chunker.js';
import { createYielder } from './chunking/yielder.js';
import type { DocumentStore, NewChunk, StoredDocument } from '../stores/document-store.js';
import { detectLanguage, localeOf } from './language.js';
import type { Limiter } from './limiter.js';
import { modelFailure } from './model-errors.js';
import { normalize } from './vectors.js';

export const DEFAULT_KNOWLEDGE_BASE = 'default';

export interface IngestDeps {
  store: DocumentStore;
  model: ModelClient;
  embeddingModel: string;
  embedBatchSize: number;
  countTokens: TokenCounter;
  chunking: ChunkingConfig;
  limiter: Limiter;
}

export async function ingestDocument(deps: IngestDeps, tenantId: string, data: IngestDocument, signal?: AbortSignal): Promise<DocumentInfo> {
  const body = data.markdown ?? data.text ?? '';
  const kind = data.markdown !== undefined ? 'markdown' : 'text';
  const language = data.language ?? detectLanguage(`${data.title}\n${body}`);
  const knowledgeBaseId = data.knowledgeBaseId ?? DEFAULT_KNOWLEDGE_BASE;
  const maxTokens = data.chunking?.maxTokens ?? deps.chunking.maxTokens;
  // An overlap as large as the chunk would make every chunk a copy of the last one.
  const chunking = { maxTokens, overlapTokens: Math.min(data.chunking?.overlapTokens ?? deps.chunking.overlapTokens, Math.floor(maxTokens / 2)) };
  const metadata = data.metadata ?? {};
  const contentHash = createHash('sha256')
    .update(JSON.stringify({ v: 1, title: data.title, kind, body, language, chunking, model: deps.embeddingModel, metadata }))
    .digest('hex');
  const source = data.source ?? null;

  if (source !== null) {
    const existing = await deps.store.findBySource(tenantId, knowledgeBaseId, source);
    if (existing && existing.contentHash === contentHash) return toInfo(existing, 'unchanged');
  }

  return deps.limiter.run(async () => {
    const chunks = await chunkDocument(
      { title: data.title, ...(kind === 'markdown' ? { markdown: body } : { text: body }), locale: localeOf(language) },
      chunking,
      deps.countTokens,
    );
    if (chunks.length === 0) throw new ActionError('invalid_payload', 'the document has no text to index (text and markdown are empty or whitespace)');
    const embedded = await embedChunks(deps, chunks, signal);
    const { document, replaced } = await deps.store.replaceDocument(
      {
        tenantId,
        knowledgeBaseId,
        title: data.title,
        source,
        language,
        contentHash,
        embeddingModel: deps.embeddingModel,
        tokenCount: chunks.reduce((s, c) => s + c.tokenCount, 0),
        charCount: body.length,
        metadata,
      },
      embedded,
    );
    return toInfo(document, replaced ? 'replaced' : 'created');
  }, signal);
}

/** The heading path goes into what is embedded: a chunk of "Refunds › Timing" is about refunds even if its text never says so. */
export function embeddingInput(chunk: Pick<Chunk, 'heading' | 'text'>): string {
  return `${chunk.heading}\n\n${chunk.text}`;
}

async function embedChunks(deps: IngestDeps, chunks: Chunk[], signal: AbortSignal | undefined): Promise<NewChunk[]> {
  const out: NewChunk[] = [];
  const yielder = createYielder();
  let dims: number | null = null;
  for (let i = 0; i < chunks.length; i += deps.embedBatchSize) {
    const batch = chunks.slice(i, i + deps.embedBatchSize);
    let vectors: number[][];
    try {
      vectors = await deps.model.embed(batch.map(embeddingInput), signal ? { signal } : {});
    } catch (err) {
      throw modelFailure(
        err,
        `embedding chunks ${i + 1}–${i + batch.length} of ${chunks.length}`,
        'nothing was stored; ingest the document again when the model is back',
      );
    }
    for (const [j, chunk] of batch.entries()) {
      const v = vectors[j]!;
      dims ??= v.length;
      if (v.length !== dims || dims === 0)
        throw new ActionError('model_error', `the embeddings endpoint returned vectors of ${v.length} and ${dims} dimensions; nothing was stored`, {
          retryable: false,
        });
      out.push({ ordinal: chunk.ordinal, heading: chunk.heading, text: chunk.text, tokenCount: chunk.tokenCount, embedding: normalize(v) });
    }
    await yielder.maybeYield();
  }
  return out;
}

export function toInfo(doc: StoredDocument, outcome?: DocumentInfo['outcome']): DocumentInfo {
  return {
    documentId: doc.id,
    knowledgeBaseId: doc.knowledgeBaseId,
    title: doc.title,
    source: doc.source,
    chunks: doc.chunkCount,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    language: doc.language,
    tokens: doc.tokenCount,
    metadata: doc.metadata,
    ...(outcome ? { outcome } : {}),
  };
}
