import { countTokens } from '@parley/llm';
import { describe, expect, it } from 'vitest';
import { chunkDocument, HEADING_SEPARATOR } from './chunker.js';
import { parseMarkdown, splitSentences } from './structure.js';

const count = (s: string) => countTokens(s);

describe('parseMarkdown', () => {
  it('keeps the heading path and paragraphs, and code fences whole', () => {
    const md = '# Guide\n\nIntro text.\n\n## Refunds\n\nFirst para.\n\n```\ncode\n\nmore code\n```\n\n### Timing\n\nFive days.\n\n## Shipping\n\nShips fast.';
    const sections = parseMarkdown(md);
    expect(sections.map((s) => s.path)).toEqual([['Guide'], ['Guide', 'Refunds'], ['Guide', 'Refunds', 'Timing'], ['Guide', 'Shipping']]);
    expect(sections[1]!.paragraphs).toEqual(['First para.', '```\ncode\n\nmore code\n```']);
  });
});

describe('splitSentences', () => {
  it('splits Spanish questions and keeps abbreviations', () => {
    expect(splitSentences('¿Cómo pido un reembolso? Escriba a soporte. Gracias.', 'es')).toEqual([
      '¿Cómo pido un reembolso?',
      'Escriba a soporte.',
      'Gracias.',
    ]);
  });
});

describe('chunkDocument', () => {
  const sentence = (i: number) => `Sentence number ${i} talks about topic ${i} in some detail for the reader.`;

  it('never exceeds maxTokens and never crosses a heading', async () => {
    const body = Array.from({ length: 40 }, (_, i) => sentence(i)).join(' ');
    const md = `# A\n\n${body}\n\n# B\n\nShort section.`;
    const chunks = await chunkDocument({ title: 'Doc', markdown: md }, { maxTokens: 80, overlapTokens: 0 }, count);
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(80);
    expect(chunks.at(-1)!.heading).toBe(`Doc${HEADING_SEPARATOR}B`);
    expect(chunks.at(-1)!.text).toBe('Short section.');
    expect(chunks.every((c, i) => c.ordinal === i)).toBe(true);
    // Every sentence survives, in order.
    const all = chunks
      .filter((c) => c.heading.endsWith('A'))
      .map((c) => c.text)
      .join(' ');
    for (let i = 0; i < 40; i++) expect(all).toContain(sentence(i));
  });

  it('repeats trailing sentences as overlap', async () => {
    const text = Array.from({ length: 30 }, (_, i) => sentence(i)).join(' ');
    const chunks = await chunkDocument({ title: 'Doc', text }, { maxTokens: 100, overlapTokens: 20 }, count);
    expect(chunks.length).toBeGreaterThan(2);
    for (let i = 1; i < chunks.length; i++) {
      const prevLast = splitSentences(chunks[i - 1]!.text).at(-1)!;
      expect(chunks[i]!.text.startsWith(prevLast)).toBe(true);
    }
  });

  it('keeps short paragraphs together, separated by blank lines', async () => {
    const chunks = await chunkDocument({ title: 'T', text: 'One.\n\nTwo.\r\n\r\nThree.' }, { maxTokens: 200, overlapTokens: 20 }, count);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.text).toBe('One.\n\nTwo.\n\nThree.');
  });

  it('cuts a sentence without punctuation into word runs, and a giant word by characters', async () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const blob = 'x'.repeat(5000);
    const chunks = await chunkDocument({ title: 'T', text: `${words}\n\n${blob}` }, { maxTokens: 64, overlapTokens: 0 }, count);
    for (const c of chunks) expect(c.tokenCount).toBeLessThanOrEqual(64);
    expect(
      chunks
        .map((c) => c.text)
        .join(' ')
        .replace(/\s+/g, ''),
    ).toBe(`${words}${blob}`.replace(/\s+/g, ''));
  });

  it('returns nothing for an empty document', async () => {
    expect(await chunkDocument({ title: 'T', text: ' \n\n ' }, { maxTokens: 64, overlapTokens: 8 }, count)).toEqual([]);
  });
});
