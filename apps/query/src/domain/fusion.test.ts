import { describe, expect, it } from 'vitest';
import { decodeRealArray, type Candidate } from '../stores/chunk-search.js';
import { fuse } from './fusion.js';

const unit = (...v: number[]) => Float32Array.from(v);

describe('fuse', () => {
  const q = [1, 0, 0];
  const candidates: Candidate[] = [
    { id: 'text-only', textRank: 0.9, strict: false, embedding: unit(0, 1, 0) },
    { id: 'both', textRank: 0.5, strict: false, embedding: unit(0.9, 0.436, 0) },
    { id: 'meaning-only', textRank: null, strict: false, embedding: unit(0.95, 0, 0.312) },
    { id: 'recent-noise', textRank: null, strict: false, embedding: unit(0.1, 0.995, 0) },
    { id: 'strict', textRank: 0.1, strict: true, embedding: null },
  ];

  it('rewards agreement of both rankings and drops recent chunks that are not close', () => {
    const fused = fuse(candidates, q, { k: 60, minSimilarity: 0.3, topK: 10 });
    expect(fused[0]!.id).toBe('both');
    expect(fused.map((f) => f.id)).not.toContain('recent-noise');
    expect(fused.find((f) => f.id === 'meaning-only')!.textRank).toBeNull();
    expect(fused.find((f) => f.id === 'both')!.similarity).toBeCloseTo(0.9, 5);
  });

  it('ranks strict full-text matches first in the text list', () => {
    const fused = fuse(candidates, null, { k: 60, minSimilarity: 0.3, topK: 2 });
    expect(fused.map((f) => f.id)).toEqual(['strict', 'text-only']);
    expect(fused.every((f) => f.similarity === null)).toBe(true);
  });
});

describe('decodeRealArray', () => {
  it('reads the binary array format of array_send', () => {
    const values = [0.5, -1.25, 3];
    const buf = Buffer.alloc(20 + values.length * 8);
    buf.writeInt32BE(1, 0);
    buf.writeInt32BE(0, 4);
    buf.writeInt32BE(700, 8);
    buf.writeInt32BE(values.length, 12);
    buf.writeInt32BE(1, 16);
    values.forEach((v, i) => {
      buf.writeInt32BE(4, 20 + i * 8);
      buf.writeFloatBE(v, 24 + i * 8);
    });
    expect(Array.from(decodeRealArray(buf.toString('base64'))!)).toEqual(values);
  });
});
