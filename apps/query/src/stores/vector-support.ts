/**
 * pgvector is optional. When the extension is installed in the database (we never install it: that
 * needs superuser and a package on the server), the semantic side searches an HNSW index over
 * `embedding::vector(dims)` instead of scoring candidates with a dot product over real[]. The column
 * stays real[], so the schema and the migrations are the same with or without the extension.
 */
import type { Logger } from 'pino';
import type { Pool } from 'pg';

export async function vectorExtensionInstalled(pool: Pool): Promise<boolean> {
  const res = await pool.query(`select 1 from pg_extension where extname = 'vector'`);
  return (res.rowCount ?? 0) > 0;
}

/**
 * Creates the expression index for the current embedding size. Rows of another size (an older
 * embedding model) would make the cast fail, so the index is partial on the size.
 */
export async function ensureVectorIndex(pool: Pool, dims: number, log: Logger): Promise<void> {
  const d = Math.trunc(dims);
  const name = `knowledge_chunks_embedding_hnsw_${d}`;
  log.info({ dims: d, index: name }, 'pgvector installed: ensuring the HNSW index (may take a while on a large table)');
  await pool.query(
    `create index if not exists ${name} on knowledge_chunks using hnsw ((embedding::vector(${d})) vector_cosine_ops) where cardinality(embedding) = ${d}`,
  );
}
