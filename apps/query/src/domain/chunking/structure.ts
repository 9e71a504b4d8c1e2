/**
 * Turns a document into sections (a heading path and its paragraphs), the structure the chunker
 * packs. Markdown headings open sections; fenced code blocks stay whole; plain text has one section.
 */
export interface Section {
  /** Headings from the outermost to this section's own ("Refunds", "Timing"). */
  path: string[];
  paragraphs: string[];
}

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;
const FENCE = /^\s*(```|~~~)/;

export function parseMarkdown(markdown: string): Section[] {
  const sections: Section[] = [];
  const stack: Array<{ level: number; title: string }> = [];
  let current: Section = { path: [], paragraphs: [] };
  let para: string[] = [];
  let fence: string | null = null;

  const flushParagraph = () => {
    const text = para.join('\n').trim();
    if (text) current.paragraphs.push(text);
    para = [];
  };
  const openSection = () => {
    flushParagraph();
    if (current.paragraphs.length > 0) sections.push(current);
    current = { path: stack.map((h) => h.title), paragraphs: [] };
  };

  for (const line of normalizeNewlines(markdown).split('\n')) {
    if (fence !== null) {
      para.push(line);
      if (line.trim().startsWith(fence)) {
        fence = null;
        flushParagraph();
      }
      continue;
    }
    const f = FENCE.exec(line);
    if (f) {
      flushParagraph();
      fence = f[1]!;
      para.push(line);
      continue;
    }
    const h = HEADING.exec(line);
    if (h) {
      const level = h[1]!.length;
      while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
      stack.push({ level, title: stripInline(h[2]!) });
      openSection();
      continue;
    }
    if (line.trim() === '') flushParagraph();
    else para.push(line);
  }
  flushParagraph();
  if (current.paragraphs.length > 0) sections.push(current);
  return sections;
}

/** Plain text: paragraphs are separated by blank lines; there are no headings to trust. */
export function parsePlainText(text: string): Section[] {
  const paragraphs = normalizeNewlines(text)
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter(Boolean);
  return paragraphs.length > 0 ? [{ path: [], paragraphs }] : [];
}

function normalizeNewlines(s: string): string {
  return s.replace(/\r\n?/g, '\n');
}

/** Headings go into the heading path and the full-text index; emphasis markers and link targets would only add noise. */
function stripInline(s: string): string {
  return s
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, '')
    .trim();
}

const segmenters = new Map<string, Intl.Segmenter>();

/** Sentences by ICU rules, which know "¿…?" and abbreviations better than a regex would. */
export function splitSentences(paragraph: string, locale = 'en'): string[] {
  let seg = segmenters.get(locale);
  if (!seg) {
    seg = new Intl.Segmenter(locale, { granularity: 'sentence' });
    segmenters.set(locale, seg);
  }
  const out: string[] = [];
  for (const s of seg.segment(paragraph)) {
    const t = s.segment.trim();
    if (t) out.push(t);
  }
  return out;
}
