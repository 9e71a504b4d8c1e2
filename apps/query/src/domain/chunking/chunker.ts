/**
 * Packs a document's structure into chunks of at most `maxTokens` (heading path included), never
 * across a heading, splitting paragraphs into sentences and sentences into word runs only when they
 * do not fit, and repeating up to `overlapTokens` of trailing sentences at the start of the next chunk
 * of the same section, so an answer that straddles a boundary is still found whole in one chunk.
 */
import { parseMarkdown, parsePlainText, splitSentences, type Section } from './structure.js';
import { createYielder, type Yielder } from './yielder.js';

export interface ChunkingConfig {
  maxTokens: number;
  overlapTokens: number;
}

export interface ChunkInput {
  title: string;
  text?: string | undefined;
  markdown?: string | undefined;
  /** Intl locale for sentence rules ('en', 'es'). */
  locale?: string;
}

export interface Chunk {
  ordinal: number;
  /** "Title › Heading › Subheading": indexed with the text, and prefixed to it for embedding. */
  heading: string;
  text: string;
  tokenCount: number;
}

export type TokenCounter = (text: string) => number;

interface Unit {
  text: string;
  tokens: number;
  /** Index of the paragraph it came from: units of one paragraph are joined by a space, others by a blank line. */
  para: number;
  /** A repeated tail of the previous chunk, not new content. */
  overlap?: boolean;
}

/** Smallest body budget, so a very long heading path cannot squeeze chunks down to nothing. */
const MIN_BODY_TOKENS = 16;
export const HEADING_SEPARATOR = ' › ';

export async function chunkDocument(input: ChunkInput, config: ChunkingConfig, count: TokenCounter, yielder: Yielder = createYielder()): Promise<Chunk[]> {
  const sections = input.markdown !== undefined ? parseMarkdown(input.markdown) : parsePlainText(input.text ?? '');
  const chunks: Chunk[] = [];
  for (const section of sections) {
    await chunkSection(section, input, config, count, yielder, chunks);
  }
  return chunks;
}

async function chunkSection(section: Section, input: ChunkInput, config: ChunkingConfig, count: TokenCounter, yielder: Yielder, out: Chunk[]): Promise<void> {
  // A markdown document usually opens with its title as `# Title`: once in the path is enough.
  const path = section.path[0]?.toLowerCase() === input.title.trim().toLowerCase() ? section.path.slice(1) : section.path;
  const heading = [input.title, ...path].join(HEADING_SEPARATOR);
  const budget = Math.max(MIN_BODY_TOKENS, config.maxTokens - count(heading) - 2);
  const overlapBudget = Math.min(config.overlapTokens, Math.floor(budget / 2));
  const units: Unit[] = [];
  for (const [para, paragraph] of section.paragraphs.entries()) {
    await yielder.maybeYield();
    const tokens = count(paragraph);
    if (tokens <= budget) {
      units.push({ text: paragraph, tokens, para });
      continue;
    }
    for (const sentence of splitSentences(paragraph, input.locale)) {
      const t = count(sentence);
      if (t <= budget) units.push({ text: sentence, tokens: t, para });
      else for (const run of splitWords(sentence, budget, count)) units.push({ ...run, para });
    }
  }

  let current: Unit[] = [];
  let tokens = 0;
  const emit = () => {
    if (!current.some((u) => !u.overlap)) return;
    const text = join(current);
    out.push({ ordinal: out.length, heading, text, tokenCount: count(`${heading}\n\n${text}`) });
  };
  for (const unit of units) {
    await yielder.maybeYield();
    if (current.length > 0 && tokens + unit.tokens > budget) {
      emit();
      current = overlapBudget > 0 ? tail(current, overlapBudget, count, input.locale) : [];
      tokens = current.reduce((s, u) => s + u.tokens, 0);
      if (tokens + unit.tokens > budget) {
        current = [];
        tokens = 0;
      }
    }
    current.push(unit);
    tokens += unit.tokens;
  }
  emit();
}

/** The last sentences of a chunk that fit in `budget` tokens, marked as overlap. */
function tail(units: Unit[], budget: number, count: TokenCounter, locale: string | undefined): Unit[] {
  const picked: Unit[] = [];
  let used = 0;
  for (let i = units.length - 1; i >= 0; i--) {
    const u = units[i]!;
    const sentences = u.tokens <= budget - used ? [u] : splitSentences(u.text, locale).map((s) => ({ text: s, tokens: count(s), para: u.para }));
    for (let j = sentences.length - 1; j >= 0; j--) {
      const s = sentences[j]!;
      if (used + s.tokens > budget) return picked;
      picked.unshift({ ...s, overlap: true });
      used += s.tokens;
    }
  }
  return picked;
}

function join(units: Unit[]): string {
  let text = '';
  for (const [i, u] of units.entries()) {
    if (i > 0) text += units[i - 1]!.para === u.para ? ' ' : '\n\n';
    text += u.text;
  }
  return text;
}

/** Last resort for a "sentence" longer than a chunk (a table row, minified text): runs of whole words. */
function splitWords(sentence: string, budget: number, count: TokenCounter): Array<{ text: string; tokens: number }> {
  const runs: Array<{ text: string; tokens: number }> = [];
  let words: string[] = [];
  let tokens = 0;
  for (const word of sentence.split(/\s+/).filter(Boolean)) {
    // A single word longer than the budget (a base64 blob) is cut by characters.
    const pieces = count(word) > budget ? (word.match(new RegExp(`.{1,${budget * 2}}`, 'gsu')) ?? [word]) : [word];
    for (const piece of pieces) {
      const t = count(` ${piece}`);
      if (words.length > 0 && tokens + t > budget) {
        const text = words.join(' ');
        runs.push({ text, tokens: count(text) });
        words = [];
        tokens = 0;
      }
      words.push(piece);
      tokens += t;
    }
  }
  if (words.length > 0) {
    const text = words.join(' ');
    runs.push({ text, tokens: count(text) });
  }
  return runs;
}
