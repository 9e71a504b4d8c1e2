import { describe, expect, it } from 'vitest';
import { cosine, embedText } from './embeddings.js';

describe('dev embeddings', () => {
  it('are deterministic and unit length', () => {
    const a = embedText('How do I reset my password?');
    expect(a).toEqual(embedText('How do I reset my password?'));
    expect(a).toHaveLength(384);
    expect(Math.sqrt(a.reduce((n, x) => n + x * x, 0))).toBeCloseTo(1, 6);
    expect(embedText('', 64)).toHaveLength(64);
  });

  it('put paraphrases closer than unrelated text', () => {
    const query = embedText('How can I reset my password?');
    const paraphrase = embedText('Steps to reset a forgotten password');
    const unrelated = embedText('Our office is closed on public holidays');
    expect(cosine(query, paraphrase)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
  });

  it('fold accents, case and plurals', () => {
    const a = embedText('Política de devoluciones');
    const b = embedText('politica de devolucion');
    expect(cosine(a, b)).toBeGreaterThan(0.7);
  });
});
