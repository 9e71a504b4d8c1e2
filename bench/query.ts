// npm run bench:query — ingest throughput (chunks/s, end to end: chunking, embeddings over HTTP,
// one transaction) and query.search latency through the bus over 100,000 chunks of one tenant.
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createBus } from '@parley/bus';
import { catalog } from '@parley/contracts';
import { databaseUrl, deletePrefix, newRedis, redisUrl, uniquePrefix } from '@parley/testing/tools';
import pg from 'pg';
import { assembleDeps } from '../apps/query/src/wiring.js';
import { env } from '../apps/query/src/env.js';
import { queryHandlers } from '../apps/query/src/handlers/index.js';
import { insertChunks, type NewChunk } from '../apps/query/src/stores/document-store.js';
import { ingestDocument } from '../apps/query/src/domain/ingest.js';
import { createModelClient } from '../packages/llm/src/index.js';
import { embedText, startDevModelServer } from '../packages/llm/src/dev-server/index.js';
import { migrateDatabase } from '../packages/db/src/migrate.js';
import { closedLoop, percentiles, report, type BenchRow } from './lib/results.js';

const TOTAL_CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const LEVELS = (process.env.BENCH_LEVELS ?? '1,8').split(',').map(Number);
const TENANT = 'bench-tenant';
const DB = 'parley_bench_query';

function dbUrl(name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.query(`create database ${DB}`);
  await admin.end();
  await migrateDatabase(dbUrl(DB));
  return dbUrl(DB);
}

// A deterministic generator, so every run loads the same corpus and asks the same questions.
let seed = 42;
const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;

/** Real words from the test corpus plus made-up ones, drawn with a Zipf law like natural text. */
function vocabulary(): { pick: () => string } {
  const dir = fileURLToPath(new URL('../tests/fixtures/knowledge/', import.meta.url));
  const real = new Set<string>();
  for (const f of readdirSync(dir))
    for (const w of readFileSync(dir + f, 'utf8')
      .toLowerCase()
      .match(/\p{L}{3,}/gu) ?? [])
      real.add(w);
  const words = [...real];
  for (let i = 0; words.length < 20_000; i++) words.push(`${words[i % real.size]}${String.fromCharCode(97 + (i % 26))}${(i * 7919) % 997}`);
  const weights = words.map((_, i) => 1 / (i + 1) ** 1.05);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w));
  return {
    pick() {
      const x = rand() * acc;
      let lo = 0;
      let hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      return words[lo]!;
    },
  };
}

function sentence(vocab: { pick: () => string }, n: number): string {
  return `${Array.from({ length: n }, () => vocab.pick()).join(' ')}.`;
}

async function benchIngest(url: string, devUrl: string): Promise<BenchRow> {
  const parsed = env.parse('bench', { DATABASE_URL: url });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const model = createModelClient({
    baseURL: devUrl,
    apiKey: 'bench',
    model: 'parley-dev',
    embeddingModel: 'parley-dev-embed',
    timeoutMs: 60_000,
    maxRetries: 0,
  });
  const deps = assembleDeps(parsed.config, pool, model, { vectorDims: null });
  const vocab = vocabulary();
  // Ten documents of ~60 kB: enough chunks per document that the figure is throughput, not per-call overhead.
  const docs = Array.from({ length: 10 }, () =>
    Array.from(
      { length: 40 },
      (_, s) => `## Section ${s}\n\n${Array.from({ length: 12 }, () => sentence(vocab, 8 + Math.floor(rand() * 14))).join(' ')}\n\n${sentence(vocab, 20)}`,
    ).join('\n\n'),
  ).map((body, d) => `# Ingest doc ${d}\n\n${body}`);
  let chunks = 0;
  const latencies: number[] = [];
  const started = performance.now();
  for (const [d, markdown] of docs.entries()) {
    const t = performance.now();
    const info = await ingestDocument(deps.ingest, 'bench-ingest', { title: `Ingest doc ${d}`, markdown, source: `ingest-${d}.md` });
    latencies.push(performance.now() - t);
    chunks += info.chunks;
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.end();
  const { p50, p99 } = percentiles(latencies);
  return {
    case: 'ingest',
    concurrency: 1,
    ops_per_s: chunks / seconds,
    p50_ms: p50,
    p99_ms: p99,
    chunks,
    documents: docs.length,
    unit: 'chunks/s; p50/p99 per document',
  };
}

/** 100k chunks with embeddings computed in process (the dev model's own function), loaded over 4 connections. */
async function loadChunks(url: string): Promise<{ ms: number; texts: string[] }> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const vocab = vocabulary();
  const perDoc = 1_000;
  const docs = Math.ceil(TOTAL_CHUNKS / perDoc);
  const samples: string[] = [];
  const started = performance.now();
  const base = Date.now() - docs * 60_000;
  const loadDoc = async (d: number) => {
    const id = `bench-doc-${d}`;
    await pool.query(
      `insert into knowledge_documents (id, tenant_id, title, source, language, content_hash, embedding_model, chunk_count, token_count, char_count)
       values ($1, $2, $3, $4, 'english', 'bench', 'parley-dev-embed', $5, 0, 0)`,
      [id, TENANT, `Bench document ${d}`, `bench/${d}`, perDoc],
    );
    const chunks: NewChunk[] = [];
    for (let i = 0; i < perDoc && d * perDoc + i < TOTAL_CHUNKS; i++) {
      const text = Array.from({ length: 6 }, () => sentence(vocab, 10 + Math.floor(rand() * 12))).join(' ');
      const heading = `Bench document ${d} › Section ${i >> 4}`;
      if (i % 500 === 7) samples.push(text);
      chunks.push({ ordinal: i, heading, text, tokenCount: 0, embedding: embedText(`${heading}\n\n${text}`) });
    }
    await insertChunks(pool, { tenantId: TENANT, knowledgeBaseId: 'default', documentId: id, language: 'english' }, chunks, {
      createdAt: new Date(base + d * 60_000),
    });
  };
  // The usual bulk-load order: rows first, indexes after (one sort instead of 100k index insertions).
  await pool.query('drop index knowledge_chunks_tsv_idx, knowledge_chunks_tenant_recent_idx, knowledge_chunks_document_idx');
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < docs) await loadDoc(next++);
    }),
  );
  await pool.query('create index knowledge_chunks_tsv_idx on knowledge_chunks using gin (tsv)');
  await pool.query('create index knowledge_chunks_tenant_recent_idx on knowledge_chunks (tenant_id, created_at desc nulls last)');
  await pool.query('create index knowledge_chunks_document_idx on knowledge_chunks (document_id, ordinal)');
  // What an operator does after a bulk load: sets hint bits and the visibility map now, instead of
  // the first searches writing them (and autovacuum doing it in the middle of the measurement).
  await pool.query('vacuum (analyze) knowledge_chunks');
  await pool.query('vacuum (analyze) knowledge_documents');
  await pool.end();
  return { ms: performance.now() - started, texts: samples };
}

/** Questions that share a few words with a chunk, in another order, plus a word it does not have. */
function questions(samples: string[]): string[] {
  const vocab = vocabulary();
  return samples.flatMap((text) => {
    const words = text.replace(/\./g, '').split(' ');
    return [0, 1, 2].map(() => {
      const picked = Array.from({ length: 4 }, () => words[Math.floor(rand() * words.length)]!);
      return `how does ${picked.join(' ')} relate to ${vocab.pick()}?`;
    });
  });
}

async function benchSearch(url: string, devUrl: string, qs: string[]): Promise<BenchRow[]> {
  const parsed = env.parse('bench', { DATABASE_URL: url });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  const pool = new pg.Pool({ connectionString: url, max: 16 });
  const model = createModelClient({
    baseURL: devUrl,
    apiKey: 'bench',
    model: 'parley-dev',
    embeddingModel: 'parley-dev-embed',
    timeoutMs: 60_000,
    maxRetries: 0,
  });
  const prefix = uniquePrefix('benchq');
  const worker = createBus({ catalog, service: 'query', redis: redisUrl, prefix });
  const handle = worker.handle('query', queryHandlers(assembleDeps(parsed.config, pool, model, { vectorDims: null })), { concurrency: 64 });
  const caller = createBus({ catalog, service: 'bench', redis: redisUrl, prefix });
  const rows: BenchRow[] = [];
  let i = 0;
  let empty = 0;
  const op = async () => {
    const r = await caller.call('query.search', { query: qs[i++ % qs.length]!, topK: 5 }, { tenantId: TENANT });
    if (r.hits.length === 0) empty++;
  };
  try {
    for (const c of LEVELS) {
      await closedLoop(c, 2_000, op);
      empty = 0;
      const r = await closedLoop(c, SECONDS * 1000, op);
      const { p50, p99 } = percentiles(r.latencies);
      rows.push({
        case: 'search',
        concurrency: c,
        ops_per_s: r.opsPerS,
        p50_ms: p50,
        p99_ms: p99,
        chunks: TOTAL_CHUNKS,
        empty_replies: empty,
        path: 'bus → embed (dev model HTTP) → SQL',
      });
    }
  } finally {
    await handle.stop(1_000);
    await caller.close(0);
    await worker.close(0);
    await pool.end();
    const r = newRedis();
    await deletePrefix(r, prefix).finally(() => r.disconnect());
  }
  return rows;
}

const t0 = performance.now();
const url = await freshDatabase();
const dev = await startDevModelServer({ port: 0 });
try {
  const ingest = await benchIngest(url, dev.url);
  console.log(`ingest: ${ingest.chunks} chunks at ${ingest.ops_per_s.toFixed(0)} chunks/s`);
  const load = await loadChunks(url);
  console.log(`loaded ${TOTAL_CHUNKS} chunks in ${(load.ms / 1000).toFixed(1)} s (bulk insert, precomputed embeddings)`);
  const search = await benchSearch(url, dev.url, questions(load.texts));
  report(
    'query',
    [ingest, ...search],
    [
      `search: one tenant holding ${TOTAL_CHUNKS} chunks (real[] embeddings, no pgvector), topK 5, ${SECONDS} s per level; target p99 <= 50 ms`,
      `bulk load of ${TOTAL_CHUNKS} chunks: ${(load.ms / 1000).toFixed(1)} s; whole run ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      // PostgreSQL, the dev model, the worker and the caller share these CPUs: a busy machine shows up in every figure.
      `machine: ${availableParallelism()} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} (1/5/15 min) at the end of the run`,
    ],
  );
} finally {
  await dev.close();
  // BENCH_KEEP=1 leaves the database for EXPLAIN ANALYZE.
  if (process.env.BENCH_KEEP === '1') process.exit(0);
  const admin = new pg.Client({ connectionString: dbUrl('postgres') });
  await admin.connect();
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.end();
}
process.exit(0);
