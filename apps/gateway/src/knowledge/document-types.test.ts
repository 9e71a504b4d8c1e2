import { ActionError } from '@parley/contracts';
import { describe, expect, test } from 'vitest';
import { checkBytes, declaredKind, mediaType } from './document-types.js';

const refusal = (fn: () => unknown): ActionError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ActionError) return err;
  }
  throw new Error('expected an ActionError');
};

describe('the knowledge type allow-list', () => {
  test('the declared type decides; the extension only when the type says nothing', () => {
    expect(declaredKind('application/pdf', 'x.bin')).toBe('pdf');
    expect(declaredKind('text/html; charset=utf-8', 'page')).toBe('html');
    expect(declaredKind('application/octet-stream', 'Report.DOCX')).toBe('docx');
    expect(declaredKind('', 'notes.md')).toBe('markdown');
    expect(mediaType(' Text/Markdown ; charset=utf-8')).toBe('text/markdown');
  });

  test('anything else is unsupported_media_type naming the type', () => {
    expect(refusal(() => declaredKind('image/png', 'logo.pdf'))).toMatchObject({ code: 'unsupported_media_type', details: { type: 'image/png' } });
    expect(refusal(() => declaredKind('application/octet-stream', 'setup.exe')).message).toContain('.exe');
    expect(refusal(() => declaredKind('', 'README')).message).toContain('without an extension');
  });

  test('the bytes must be what was declared', () => {
    expect(() => checkBytes('pdf', Buffer.from('%PDF-1.7\n…'), 'application/pdf')).not.toThrow();
    expect(() => checkBytes('docx', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0]), undefined)).not.toThrow();
    expect(() => checkBytes('markdown', Buffer.from('# Title\n\ntext'), 'text/markdown')).not.toThrow();
    expect(refusal(() => checkBytes('pdf', Buffer.from('hello'), 'application/pdf')).message).toMatch(/not a PDF/);
    expect(refusal(() => checkBytes('docx', Buffer.from('%PDF-1.4'), undefined)).code).toBe('unsupported_media_type');
    // A PDF or a zip sent as text, and bytes that are not UTF-8, are not text.
    expect(refusal(() => checkBytes('text', Buffer.from('%PDF-1.4 …'), 'text/plain')).code).toBe('unsupported_media_type');
    expect(refusal(() => checkBytes('html', Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'text/html')).message).toContain('UTF-8 html');
  });
});
