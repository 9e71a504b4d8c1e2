/**
 * Reciprocal-rank fusion of the full-text and the embedding rankings: score = Σ 1 / (k + rank).
 * Ranks, not raw scores, are fused because ts_rank and cosine live on unrelated scales; k (60 in the
 * original paper) keeps one list's top spot from drowning everything else.
 */
import type { Candidate } from '../stores/chunk-search.js';

export interface Fused {
  id: string;
  score: number;
  similarity: number | null;
  textRank: number | null;
  strict: boolean;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/**
 * The text list ranks strict matches (every word) first, then by ts_rank. The semantic list holds
 * only candidates at least `minSimilarity` close, so the recent chunks that merely happened to be
 * candidates never surface on recency alone.
 */
export function fuse(candidates: readonly Candidate[], query: readonly number[] | null, opts: { k: number; minSimilarity: number; topK: number }): Fused[] {
  const q = query ? Float32Array.from(query) : null;
  const rows: Fused[] = candidates.map((c) => ({
    id: c.id,
    score: 0,
    similarity: q && c.embedding && c.embedding.length === q.length ? dot(q, c.embedding) : null,
    textRank: c.textRank,
    strict: c.strict,
  }));
  const text = rows.filter((r) => r.textRank !== null).sort((a, b) => Number(b.strict) - Number(a.strict) || b.textRank! - a.textRank! || cmp(a.id, b.id));
  text.forEach((r, i) => (r.score += 1 / (opts.k + i + 1)));
  const semantic = rows
    .filter((r) => r.similarity !== null && r.similarity >= opts.minSimilarity)
    .sort((a, b) => b.similarity! - a.similarity! || cmp(a.id, b.id));
  semantic.forEach((r, i) => (r.score += 1 / (opts.k + i + 1)));
  return rows
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || cmp(a.id, b.id))
    .slice(0, opts.topK);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
