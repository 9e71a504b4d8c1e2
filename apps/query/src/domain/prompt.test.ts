import { countTokens } from '@parley/llm';
import { describe, expect, it } from 'vitest';
import type { ChunkHit } from './search.js';
import { buildPrompt, readAnswer } from './prompt.js';

const hit = (i: number, text: string): ChunkHit => ({
  id: `c${i}`,
  documentId: 'd',
  knowledgeBaseId: 'default',
  title: 'T',
  source: null,
  heading: `T › S${i}`,
  ordinal: i,
  text,
  score: 1 / (60 + i),
  similarity: 0.5,
  textRank: null,
  strictMatch: false,
});

describe('buildPrompt', () => {
  it('numbers the sources and stops at the token budget, keeping at least one', () => {
    const hits = [hit(0, 'alpha '.repeat(50)), hit(1, 'beta '.repeat(50)), hit(2, 'gamma '.repeat(50))];
    const p = buildPrompt('what?', hits, { contextTokens: 120, countTokens: (s) => countTokens(s) });
    expect(p.sources.map((s) => s.id)).toEqual(['c0', 'c1']);
    expect(p.messages[1]!.content).toContain('[1] T › S0');
    expect(p.messages[1]!.content).toContain('[2] T › S1');
    expect(p.messages[1]!.content).not.toContain('gamma');
    expect(buildPrompt('q', [hit(0, 'x '.repeat(500))], { contextTokens: 50, countTokens: (s) => countTokens(s) }).sources).toHaveLength(1);
  });
});

describe('readAnswer', () => {
  it('reads citations in order, ignoring numbers that are not sources', () => {
    expect(readAnswer('Refunds take 5 days [2]. Shipping is free [1][2] [9].', 2)).toEqual({
      found: true,
      text: 'Refunds take 5 days [2]. Shipping is free [1][2] [9].',
      cited: [1, 0],
    });
  });
  it('treats NOT_FOUND and empty answers as nothing found', () => {
    expect(readAnswer('NOT_FOUND', 3).found).toBe(false);
    expect(readAnswer(' NOT_FOUND. ', 3).found).toBe(false);
    expect(readAnswer('', 3).found).toBe(false);
  });
});
