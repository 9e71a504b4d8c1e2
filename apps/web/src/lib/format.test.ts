import { describe, expect, test } from 'vitest';
import { plural, sectionPath, shortId } from './format.js';

describe('wording helpers', () => {
  test('plurals agree with the count', () => {
    expect(plural(1, 'message')).toBe('1 message');
    expect(plural(0, 'message')).toBe('0 messages');
    expect(plural(2, 'reply', 'replies')).toBe('2 replies');
  });

  test('UUIDv7 ids minted in the same millisecond still get different short forms', () => {
    const a = '0193a5b2-7c10-7abc-8123-4567890abcde';
    const b = '0193a5b2-7c10-7abd-9fed-cba987654321';
    expect(shortId(a)).toBe('…890abcde');
    expect(shortId(a)).not.toBe(shortId(b));
    expect(shortId('short')).toBe('short');
  });

  test("a hit's section path drops the title it starts with, keeps the rest", () => {
    expect(sectionPath('Returns policy', 'Returns policy')).toBe('');
    expect(sectionPath('Returns policy', 'Returns policy › Refunds › Timing')).toBe('Refunds › Timing');
    expect(sectionPath('returns.md', 'Returns policy › Refunds')).toBe('Returns policy › Refunds');
    expect(sectionPath('T', undefined)).toBe('');
  });
});
