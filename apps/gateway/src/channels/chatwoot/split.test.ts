import { describe, expect, test } from 'vitest';
import { splitMessage } from './split.js';

describe('splitMessage', () => {
  test('short text is one message, trimmed', () => {
    expect(splitMessage('  Hello there.  ')).toEqual(['Hello there.']);
    expect(splitMessage('   ')).toEqual([]);
  });

  test('cuts at the last sentence end that fits', () => {
    const parts = splitMessage('One two. Three four! Five six? Seven.', 20);
    expect(parts).toEqual(['One two. Three four!', 'Five six? Seven.']);
  });

  test('falls back to a line break, then a space, then a hard cut', () => {
    expect(splitMessage('aaaa bbbb\ncccc dddd eeee', 12)).toEqual(['aaaa bbbb', 'cccc dddd', 'eeee']);
    expect(splitMessage('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  test('never splits an emoji', () => {
    const parts = splitMessage(`${'a'.repeat(9)}😀${'b'.repeat(5)}`, 10);
    expect(parts.every((p) => !/[\ud800-\udbff]$/.test(p))).toBe(true);
    expect(parts.join('')).toBe(`${'a'.repeat(9)}😀${'b'.repeat(5)}`);
  });

  test('every part of a long answer fits 4096 characters', () => {
    const text = Array.from({ length: 500 }, (_, i) => `This is sentence ${i}, and it says something.`).join(' ');
    const parts = splitMessage(text);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.every((p) => p.length <= 4096 && p.endsWith('.'))).toBe(true);
    expect(parts.join(' ')).toBe(text);
  });
});
