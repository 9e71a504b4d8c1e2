import type { ContextMessage } from '@parley/contracts';
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';

/** A chat message as the platform stores and sends it (the context shape of packages/contracts). */
export type ChatMessage = ContextMessage;

export type EncodingName = 'o200k_base' | 'cl100k_base';

interface Encoder {
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
}

const encoders: Record<EncodingName, Encoder> = { o200k_base: o200k, cl100k_base: cl100k };

// User text may legitimately contain "<|endoftext|>"; count it as plain text instead of throwing.
const specialAsText = { disallowedSpecial: new Set<string>() };

// OpenAI's cookbook (num_tokens_from_messages): every message is wrapped in
// <|start|>{role}\n{content}<|end|>\n, a name costs one more, and every reply is primed with 3.
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING_TOKENS = 3;
// Tool calls are rendered by the provider in an undocumented format; name + arguments + a small
// frame is within a few tokens of what OpenAI bills, which is what a context budget needs.
const TOKENS_PER_TOOL_CALL = 3;

const encodingCache = new Map<string, EncodingName>();

/**
 * The encoding a model uses. gpt-4 / gpt-3.5 / the ada-002 and -3 embedding models use cl100k_base;
 * gpt-4o, gpt-4.1, gpt-5, the o-series and every model we do not know use o200k_base (the newest
 * one, and the closest guess for OpenRouter/Ollama/vLLM models). A provider prefix ("openai/gpt-4") is ignored.
 */
export function encodingForModel(model?: string): EncodingName {
  if (!model) return 'o200k_base';
  const cached = encodingCache.get(model);
  if (cached) return cached;
  const name = model.toLowerCase().split('/').pop() ?? '';
  const isCl100k =
    name.startsWith('gpt-3.5') || name.startsWith('text-embedding-') || (name.startsWith('gpt-4') && !name.startsWith('gpt-4o') && !name.startsWith('gpt-4.'));
  const encoding: EncodingName = isCl100k ? 'cl100k_base' : 'o200k_base';
  if (encodingCache.size < 1000) encodingCache.set(model, encoding);
  return encoding;
}

/** Tokens of a plain text in the model's encoding. */
export function countTokens(text: string, model?: string): number {
  if (text.length === 0) return 0;
  const encoder = encoders[encodingForModel(model)];
  try {
    return encoder.countTokens(text);
  } catch {
    // Only a special-token string gets here; the fast default path above covers everything else.
    return encoder.countTokens(text, specialAsText);
  }
}

/** Tokens one message costs inside a chat request, chat-format overhead included. */
export function countMessageTokens(message: ChatMessage, model?: string): number {
  let total = TOKENS_PER_MESSAGE + countTokens(message.role, model) + countTokens(message.content, model);
  for (const call of message.toolCalls ?? []) {
    total += TOKENS_PER_TOOL_CALL + countTokens(call.name, model) + countTokens(call.arguments, model);
  }
  if (message.toolCallId) total += TOKENS_PER_NAME;
  return total;
}

/** Tokens a whole chat request costs as prompt: every message plus the reply priming. */
export function countChatTokens(messages: readonly ChatMessage[], model?: string): number {
  let total = REPLY_PRIMING_TOKENS;
  for (const message of messages) total += countMessageTokens(message, model);
  return total;
}
