/**
 * query.answer: retrieve → keep only what is relevant → grounded prompt → model → answer with the
 * chunks it cited. With nothing relevant the model is not asked at all: it cannot invent from an
 * empty context, and the caller gets a plain "not found" in the question's language.
 */
import type { AnswerQuestion, AnswerReply } from '@parley/contracts';
import type { ModelClient } from '@parley/llm';
import type { Logger } from 'pino';
import { detectLanguage } from './language.js';
import { modelFailure } from './model-errors.js';
import { buildPrompt, nothingFound, readAnswer } from './prompt.js';
import { retrieve, toSearchHit, type ChunkHit, type SearchDeps } from './search.js';

export interface AnswerDeps extends SearchDeps {
  model: ModelClient;
  countTokens: (s: string) => number;
  answer: { contextTokens: number; maxTokens: number };
}

/** Relevant enough to ground an answer: every query word matched, or the meaning is close. */
export function isRelevant(hit: ChunkHit, minSimilarity: number, degraded: boolean): boolean {
  if (hit.strictMatch) return true;
  if (hit.similarity !== null && hit.similarity >= minSimilarity) return true;
  // Without embeddings, a full-text match is all the evidence there is.
  return degraded && hit.textRank !== null;
}

export async function answerQuestion(deps: AnswerDeps, tenantId: string, q: AnswerQuestion, log: Logger, signal?: AbortSignal): Promise<AnswerReply> {
  const language = detectLanguage(q.question);
  const retrieval = await retrieve(deps, tenantId, { query: q.question, topK: q.topK, knowledgeBaseId: q.knowledgeBaseId }, log, signal);
  const relevant = retrieval.hits.filter((h) => isRelevant(h, deps.settings.minSimilarity, retrieval.degraded !== undefined));
  if (relevant.length === 0) {
    log.info({ hits: retrieval.hits.length }, 'nothing relevant in the knowledge base; not asking the model');
    return { answer: nothingFound(language), grounded: false, citations: [] };
  }
  const prompt = buildPrompt(q.question, relevant, {
    contextTokens: deps.answer.contextTokens,
    conversationContext: q.conversationContext,
    countTokens: deps.countTokens,
  });
  let result;
  try {
    result = await deps.model.chat({ messages: prompt.messages, temperature: 0, maxTokens: deps.answer.maxTokens, ...(signal ? { signal } : {}) });
  } catch (err) {
    throw modelFailure(err, 'asking the model for an answer', 'try again later; query.search still works without the chat model');
  }
  const read = readAnswer(result.text, prompt.sources.length);
  if (!read.found) return { answer: nothingFound(language), grounded: false, citations: [], model: result.model, usage: result.usage };
  // A model that answered without citing still answered from these sources and nothing else.
  const cited = read.cited.length > 0 ? read.cited.map((i) => prompt.sources[i]!) : prompt.sources;
  return { answer: read.text, grounded: true, citations: cited.map(toSearchHit), model: result.model, usage: result.usage };
}
