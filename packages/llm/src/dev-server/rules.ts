import type { ToolCall } from '@parley/contracts';
import { parseMagic, type Magic } from './magic.js';
import { messageText, type ChatCompletionRequest, type WireMessage, type WireTool } from './schemas.js';
import { contentWords, foldWords, hashHex, stem } from './text.js';

export type Script = { kind: 'text'; text: string } | { kind: 'tool_calls'; calls: ToolCall[] };

export interface Plan {
  script: Script;
  magic: Magic;
}

// Words that name a built-in tool's topic, in English and Spanish (stemmed, accent-folded).
const TOPIC_WORDS: Record<string, string[]> = {
  current_time: ['time', 'hora', 'clock', 'reloj', 'date', 'fecha', 'today', 'hoy'],
  search_knowledge: ['search', 'knowledge', 'document', 'doc', 'documentation', 'busca', 'buscar', 'documento', 'manual', 'faq', 'policy'],
  handoff_to_human: ['human', 'person', 'agent', 'operator', 'humano', 'persona', 'agente', 'operador', 'representative', 'someone'],
};
const QUERY_WORDS = new Set(['what', 'who', 'when', 'where', 'which', 'how', 'why', 'que', 'cual', 'quien', 'cuando', 'donde', 'como', 'por']);
const SEARCH_LIKE = /search|knowledge|lookup|retriev|docs?\b|query/i;
const QUERY_PROPS = new Set(['query', 'q', 'text', 'question', 'input', 'message', 'topic', 'reason', 'prompt']);

const CLOSINGS = [
  'This answer is scripted by the Parley dev model, so it is the same every time.',
  'I am the offline dev model: configure a real model to get real answers.',
  'Nothing here came from a language model; the dev server builds replies from your words.',
  'Ask about the time, the knowledge base, or a human, and I will call a tool if one is offered.',
];

function lastIndexOfRole(messages: readonly WireMessage[], role: WireMessage['role']): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]?.role === role) return i;
  return -1;
}

/** Does the user's text name this tool's topic? Known topic words first, then the tool's own name and description. */
function toolScore(tool: WireTool, words: Set<string>, rawText: string): number {
  const name = tool.function.name;
  let score = 0;
  for (const w of TOPIC_WORDS[name] ?? []) if (words.has(stem(w))) score += 3;
  for (const w of name.split(/[_\-.]/)) if (w.length > 2 && words.has(stem(w.toLowerCase()))) score += 2;
  for (const w of contentWords(tool.function.description ?? '')) if (w.length > 3 && words.has(w)) score += 1;
  // A question about facts, with something to look up, goes to a search-like tool.
  const folded = foldWords(rawText);
  const isQuestion = rawText.trim().endsWith('?') && QUERY_WORDS.has(folded[0] ?? '');
  if (score === 0 && isQuestion && words.size >= 2 && SEARCH_LIKE.test(`${name} ${tool.function.description ?? ''}`)) score = 1;
  return score;
}

function argumentsFor(tool: WireTool, userText: string): string {
  const schema = tool.function.parameters ?? {};
  const properties = (schema['properties'] ?? {}) as Record<string, { type?: unknown }>;
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as unknown[]).map(String) : []);
  const args: Record<string, unknown> = {};
  for (const [prop, spec] of Object.entries(properties)) {
    const type = typeof spec === 'object' && spec !== null ? spec.type : undefined;
    if (/time_?zone|tz/i.test(prop)) args[prop] = 'UTC';
    else if (type === 'string' && (QUERY_PROPS.has(prop) || required.has(prop))) args[prop] = userText;
    else if ((type === 'integer' || type === 'number') && required.has(prop)) args[prop] = 3;
    else if (type === 'boolean' && required.has(prop)) args[prop] = false;
  }
  return JSON.stringify(args);
}

function nTokenReply(n: number): string {
  // " ok" is one token in every OpenAI encoding, so the reply is exactly n tokens.
  return `ok${' ok'.repeat(n - 1)}`;
}

function textReply(userText: string): string {
  if (!userText) return 'Hello! I am the Parley dev model. Ask me anything.';
  const words = contentWords(userText);
  const closing = CLOSINGS[parseInt(hashHex(userText, 8), 16) % CLOSINGS.length] ?? CLOSINGS[0];
  const about = words.length > 0 ? ` You mentioned ${words.slice(0, 3).join(', ')}.` : '';
  return `You said: "${userText}".${about} ${closing}`;
}

function toolResultReply(messages: readonly WireMessage[], since: number): string {
  const names = new Map<string, string>();
  for (const m of messages.slice(since)) for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
  const parts = messages
    .slice(since)
    .filter((m) => m.role === 'tool')
    .map((m) => `${names.get(m.tool_call_id ?? '') ?? 'the tool'} returned: "${messageText(m)}"`);
  return `Here is what I found. ${parts.join('; ')}.`;
}

/** Decides the whole reply from the conversation; pure, so the same request always gets the same answer. */
export function planReply(request: ChatCompletionRequest): Plan {
  const messages = request.messages;
  const userIndex = lastIndexOfRole(messages, 'user');
  const userMessage = userIndex >= 0 ? messages[userIndex] : undefined;
  const { magic, text: userText } = parseMagic(userMessage ? messageText(userMessage) : '');
  const last = messages[messages.length - 1];
  const tools = request.tools ?? [];

  // Tools already answered since the user spoke are not called again: that is what ends a tool loop.
  const answered = new Set<string>();
  const callNames = new Map<string, string>();
  for (const m of messages.slice(userIndex + 1)) {
    for (const c of m.tool_calls ?? []) callNames.set(c.id, c.function.name);
    if (m.role === 'tool') answered.add(callNames.get(m.tool_call_id ?? '') ?? '');
  }

  const words = new Set(contentWords(userText));
  const wanted = tools
    .map((tool, order) => ({ tool, order, score: magic.tool === tool.function.name ? 100 : toolScore(tool, words, userText) }))
    .filter((t) => t.score > 0 && !answered.has(t.tool.function.name))
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map((t) => t.tool);

  if (wanted.length > 0 && magic.tokens === undefined) {
    const chosen = magic.parallel ? wanted : wanted.slice(0, 1);
    const seed = messages.map((m) => `${m.role}:${messageText(m)}`).join('\n');
    const calls = chosen.map((tool, i) => ({
      id: `call_${hashHex(`${seed}\n${tool.function.name}\n${i}`)}`,
      name: tool.function.name,
      arguments: argumentsFor(tool, userText),
    }));
    return { magic, script: { kind: 'tool_calls', calls } };
  }
  if (last?.role === 'tool') return { magic, script: { kind: 'text', text: toolResultReply(messages, userIndex + 1) } };
  if (magic.tokens !== undefined) return { magic, script: { kind: 'text', text: nTokenReply(magic.tokens) } };
  if (magic.system) {
    const system = messages.find((m) => m.role === 'system');
    return { magic, script: { kind: 'text', text: `System prompt: "${system ? messageText(system).slice(0, 500) : ''}"` } };
  }
  return { magic, script: { kind: 'text', text: textReply(userText) } };
}
