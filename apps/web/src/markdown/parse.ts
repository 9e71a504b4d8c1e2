/**
 * A small markdown subset parsed into a tree of plain objects, never into HTML. The view renders
 * the tree with text nodes only, so anything the model writes (`<img onerror>`, `<script>`) stays
 * text: there is no code path from model output to markup. Subset: paragraphs with line breaks,
 * headings, bullet and numbered lists, block quotes, fenced code, and inline code, bold, italic
 * and links (http, https and mailto only).
 */
export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] }
  | { t: 'br' };

export type Block =
  | { t: 'p'; c: Inline[] }
  | { t: 'h'; level: 1 | 2 | 3; c: Inline[] }
  | { t: 'ul'; items: Inline[][] }
  | { t: 'ol'; start: number; items: Inline[][] }
  | { t: 'quote'; c: Inline[] }
  | { t: 'pre'; lang: string; v: string };

const FENCE = /^\s{0,3}(```|~~~)\s*([\w+-]*)\s*$/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ t: 'p', c: parseInline(para.join('\n')) });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const body: string[] = [];
      // An unclosed fence (a reply still streaming) runs to the end, like GitHub renders it.
      for (i++; i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```'); i++) body.push(lines[i] ?? '');
      out.push({ t: 'pre', lang: fence[2] ?? '', v: body.join('\n') });
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      out.push({ t: 'h', level: Math.min(3, heading[1]?.length ?? 1) as 1 | 2 | 3, c: parseInline(heading[2] ?? '') });
      continue;
    }
    const list = BULLET.exec(line) ? 'ul' : NUMBERED.exec(line) ? 'ol' : null;
    if (list) {
      flush();
      const re = list === 'ul' ? BULLET : NUMBERED;
      const start = list === 'ol' ? Number(NUMBERED.exec(line)?.[1] ?? 1) : 1;
      const items: Inline[][] = [];
      for (; i < lines.length; i++) {
        const m = re.exec(lines[i] ?? '');
        if (!m) break;
        items.push(parseInline((list === 'ul' ? m[1] : m[2]) ?? ''));
      }
      i--;
      out.push(list === 'ul' ? { t: 'ul', items } : { t: 'ol', start, items });
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      flush();
      const body: string[] = [];
      for (; i < lines.length; i++) {
        const m = QUOTE.exec(lines[i] ?? '');
        if (!m) break;
        body.push(m[1] ?? '');
      }
      i--;
      out.push({ t: 'quote', c: parseInline(body.join('\n')) });
      continue;
    }
    para.push(line);
  }
  flush();
  return out;
}

/** Inline spans; unmatched markers stay literal text. */
export function parseInline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const pushText = () => {
    if (text) out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === '\\' && i + 1 < src.length && /[\\`*_[\]()#>+-.!]/.test(src[i + 1] ?? '')) {
      text += src[i + 1];
      i += 2;
      continue;
    }
    if (ch === '\n') {
      pushText();
      out.push({ t: 'br' });
      i++;
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end > i + 1) {
        pushText();
        out.push({ t: 'code', v: src.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    // `_` never works inside words (`snake_case`, `__proto__`), as in CommonMark; `*` does.
    const opensHere = ch === '*' || i === 0 || !/\w/.test(src[i - 1] ?? '');
    if ((ch === '*' || ch === '_') && src[i + 1] === ch && opensHere) {
      const end = src.indexOf(ch + ch, i + 2);
      if (end > i + 2 && (ch === '*' || !/\w/.test(src[end + 2] ?? ''))) {
        pushText();
        out.push({ t: 'strong', c: parseInline(src.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && src[i + 1] !== ' ' && src[i + 1] !== undefined) {
      const end = findClosing(src, ch, i + 1);
      if (end > i + 1 && opensHere && (ch === '*' || !/\w/.test(src[end + 1] ?? ''))) {
        pushText();
        out.push({ t: 'em', c: parseInline(src.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const link = /^\[([^\]\n]+)\]\(([^)\s]+)\)/.exec(src.slice(i));
      const href = link ? safeHref(link[2] ?? '') : null;
      if (link && href) {
        pushText();
        out.push({ t: 'link', href, c: parseInline(link[1] ?? '') });
        i += link[0].length;
        continue;
      }
    }
    text += ch;
    i++;
  }
  pushText();
  return out;
}

function findClosing(src: string, ch: string, from: number): number {
  for (let j = from; j < src.length; j++) {
    if (src[j] === '\n') return -1;
    if (src[j] === ch && src[j - 1] !== ' ' && src[j + 1] !== ch) return j;
  }
  return -1;
}

/** Only absolute http(s) and mailto links: `javascript:`, `data:` and relative tricks stay text. */
export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'mailto:' ? url.href : null;
  } catch {
    return null;
  }
}
