import { describe, expect, test } from 'vitest';
import { parseInline, parseMarkdown, safeHref, type Block, type Inline } from './parse.js';

/** Every string the view would turn into a text node, and every attribute value it would set. */
function strings(blocks: Block[]): string[] {
  const out: string[] = [];
  const walk = (n: Inline) => {
    if (n.t === 'text' || n.t === 'code') out.push(n.v);
    if (n.t === 'link') out.push(n.href);
    if ('c' in n) n.c.forEach(walk);
  };
  for (const b of blocks) {
    if (b.t === 'pre') out.push(b.v);
    else if (b.t === 'ul' || b.t === 'ol') b.items.flat().forEach(walk);
    else b.c.forEach(walk);
  }
  return out;
}

describe('markdown subset', () => {
  test('blocks: paragraphs, headings, lists, quotes, fenced code', () => {
    const md = '# Title\n\nfirst line\nsecond\n\n- a\n- **b**\n\n3. x\n4. y\n\n> quoted\n\n```ts\nconst a = 1;\n```';
    expect(parseMarkdown(md).map((b) => b.t)).toEqual(['h', 'p', 'ul', 'ol', 'quote', 'pre']);
    const ol = parseMarkdown('3. x\n4. y')[0];
    expect(ol).toMatchObject({ t: 'ol', start: 3 });
    expect(parseMarkdown('```\nopen fence while streaming')[0]).toEqual({ t: 'pre', lang: '', v: 'open fence while streaming' });
  });

  test('inline: code, bold, italic, links; snake_case stays text; unmatched markers stay literal', () => {
    expect(parseInline('a `x<y>` **b** *c* [d](https://e.example/f)')).toEqual([
      { t: 'text', v: 'a ' },
      { t: 'code', v: 'x<y>' },
      { t: 'text', v: ' ' },
      { t: 'strong', c: [{ t: 'text', v: 'b' }] },
      { t: 'text', v: ' ' },
      { t: 'em', c: [{ t: 'text', v: 'c' }] },
      { t: 'text', v: ' ' },
      { t: 'link', href: 'https://e.example/f', c: [{ t: 'text', v: 'd' }] },
    ]);
    expect(parseInline('search_knowledge_base')).toEqual([{ t: 'text', v: 'search_knowledge_base' }]);
    expect(parseInline('a.__b=1 c.__d')).toEqual([{ t: 'text', v: 'a.__b=1 c.__d' }]);
    expect(parseInline('__x__ and _y_')).toEqual([
      { t: 'strong', c: [{ t: 'text', v: 'x' }] },
      { t: 'text', v: ' and ' },
      { t: 'em', c: [{ t: 'text', v: 'y' }] },
    ]);
    expect(parseInline('2 * 3 and **open')).toEqual([{ t: 'text', v: '2 * 3 and **open' }]);
  });

  test('HTML stays text: tags come out as literal strings, never as elements', () => {
    const evil = '<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n**<b>bold</b>**';
    const blocks = parseMarkdown(evil);
    expect(strings(blocks).join('')).toContain('<img src=x onerror="alert(1)">');
    expect(strings(blocks).join('')).toContain('<script>alert(2)</script>');
    expect(JSON.stringify(blocks)).not.toMatch(/"t":"(img|script|html)"/);
  });

  test('only http, https and mailto links; javascript: and data: stay text', () => {
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('JaVaScRiPt:alert(1)')).toBeNull();
    expect(safeHref('data:text/html,<script>alert(1)</script>')).toBeNull();
    expect(safeHref('/relative')).toBeNull();
    expect(safeHref('mailto:a@b.example')).toBe('mailto:a@b.example');
    expect(parseInline('[x](javascript:alert(1))')).toEqual([{ t: 'text', v: '[x](javascript:alert(1))' }]);
  });
});
