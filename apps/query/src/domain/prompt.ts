/**
 * The grounded prompt and the reading of its answer. Sources are numbered; the model must cite them
 * as [n] and say NOT_FOUND when they do not hold the answer, which is how "nothing relevant" stays
 * honest even when retrieval returned something loosely related.
 */
import type { ChatMessage } from '@parley/llm';
import type { ChunkHit } from './search.js';

export const NOT_FOUND = 'NOT_FOUND';

const SYSTEM = [
  'You answer questions for a business using ONLY the numbered sources from its knowledge base.',
  'Cite the sources you use with their numbers in brackets, like [1] or [2][3], right after the fact they support.',
  `If the sources do not contain the answer, reply with exactly ${NOT_FOUND} and nothing else. Never use outside knowledge.`,
  'Answer in the language of the question, briefly.',
].join('\n');

export interface GroundedPrompt {
  messages: ChatMessage[];
  /** The hits that fit in the budget, in source-number order ([1] is sources[0]). */
  sources: ChunkHit[];
}

export function buildPrompt(
  question: string,
  hits: readonly ChunkHit[],
  opts: { contextTokens: number; conversationContext?: string | undefined; countTokens: (s: string) => number },
): GroundedPrompt {
  const sources: ChunkHit[] = [];
  const blocks: string[] = [];
  let used = 0;
  for (const hit of hits) {
    const block = `[${sources.length + 1}] ${hit.heading}${hit.source ? ` (${hit.source})` : ''}\n${hit.text}`;
    const tokens = opts.countTokens(block);
    // The best source always goes in, cut if it must be: an answer needs at least one.
    if (used + tokens > opts.contextTokens && sources.length > 0) break;
    blocks.push(tokens > opts.contextTokens ? block.slice(0, opts.contextTokens * 3) : block);
    sources.push(hit);
    used += tokens;
  }
  const conversation = opts.conversationContext?.trim() ? `Conversation so far:\n${opts.conversationContext.trim()}\n\n` : '';
  const user = `Sources:\n\n${blocks.join('\n\n')}\n\n${conversation}Question: ${question}`;
  return {
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: user },
    ],
    sources,
  };
}

export interface ReadAnswer {
  found: boolean;
  text: string;
  /** Indexes into the prompt's sources, in order of first citation. */
  cited: number[];
}

export function readAnswer(raw: string, sourceCount: number): ReadAnswer {
  const text = raw.trim();
  if (text === '' || text.replace(/[.\s]/g, '') === NOT_FOUND || text.startsWith(NOT_FOUND)) return { found: false, text, cited: [] };
  const cited: number[] = [];
  for (const m of text.matchAll(/\[(\d{1,3})\]/g)) {
    const i = Number(m[1]) - 1;
    if (i >= 0 && i < sourceCount && !cited.includes(i)) cited.push(i);
  }
  return { found: true, text, cited };
}

export function nothingFound(language: 'english' | 'spanish' | 'simple'): string {
  return language === 'spanish'
    ? 'No encontré información sobre eso en la base de conocimiento.'
    : "I couldn't find anything about that in the knowledge base.";
}
