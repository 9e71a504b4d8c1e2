import { contentWords, fnv1a, foldWords } from './text.js';

export const DEFAULT_EMBEDDING_DIMS = 384;

// Weights chosen so shared content words dominate, word order adds a little, and trigrams let
// "documentation"/"documents" or a typo still land near each other.
const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.6;
const TRIGRAM_WEIGHT = 0.25;

function add(vector: Float64Array, feature: string, weight: number): void {
  const h = fnv1a(feature);
  const index = h % vector.length;
  // A hash-chosen sign keeps collisions from only ever adding up (the "hashing trick").
  const sign = (fnv1a(feature, 0x9e3779b9) & 1) === 0 ? 1 : -1;
  vector[index] = (vector[index] ?? 0) + sign * weight;
}

/**
 * A deterministic embedding that carries meaning the way bag-of-words does: hashed unigrams and
 * bigrams of stemmed content words plus character trigrams, L2-normalised so a dot product is the
 * cosine. Paraphrases that share words score high; unrelated texts score near zero.
 */
export function embedText(text: string, dims = DEFAULT_EMBEDDING_DIMS): number[] {
  const vector = new Float64Array(dims);
  const words = contentWords(text);
  for (const w of words) add(vector, `u:${w}`, UNIGRAM_WEIGHT);
  for (let i = 0; i + 1 < words.length; i++) add(vector, `b:${words[i]} ${words[i + 1]}`, BIGRAM_WEIGHT);
  for (const w of foldWords(text)) {
    const padded = `^${w}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(vector, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
  }
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  // An empty text still gets a unit vector, so cosine math downstream never divides by zero.
  if (norm === 0) {
    const unit = new Array<number>(dims).fill(0);
    unit[0] = 1;
    return unit;
  }
  return Array.from(vector, (v) => v / norm);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
