import type { ContextMessage, MessageRole, ModelRole } from '@parley/contracts';
import type { StoredMessage } from '@parley/conversation-store';

/** Messages newest first, pulled lazily: most contexts need only the last few dozen of thousands. */
export interface NewestFirst {
  next(): Promise<StoredMessage | null>;
}

export type WindowResult = { ok: true; messages: StoredMessage[]; tokenCount: number; truncated: boolean } | { ok: false; reason: string };

/**
 * FIFO truncation by stored token counts. Walks back from the newest message and takes whole
 * blocks while they fit: a block is one message, or an assistant tool call together with the tool
 * results that answer it (a model API rejects either half alone). The first block that does not
 * fit ends the window, so the context never has a hole. The newest user message must be inside.
 */
export async function selectWindow(source: NewestFirst, budget: number): Promise<WindowResult> {
  const taken: StoredMessage[] = [];
  let used = 0;
  let userIncluded = false;
  let pending: StoredMessage | null = await source.next();
  if (pending === null) return { ok: true, messages: [], tokenCount: 0, truncated: false };

  while (pending !== null) {
    const block = await readBlock(pending, source);
    pending = block.after;
    const cost = block.messages.reduce((n, m) => n + m.tokenCount, 0);
    if (!block.complete || used + cost > budget) {
      if (!userIncluded && (block.messages.some((m) => m.role === 'user') || (await hasUserMessage(pending, source)))) {
        return { ok: false, reason: tooSmall(budget, block.messages, used) };
      }
      return { ok: true, messages: taken.reverse(), tokenCount: used, truncated: true };
    }
    used += cost;
    // Block messages come newest first, like `taken`.
    taken.push(...block.messages);
    if (block.messages.some((m) => m.role === 'user')) userIncluded = true;
  }
  return { ok: true, messages: taken.reverse(), tokenCount: used, truncated: false };
}

interface Block {
  /** Newest first. */
  messages: StoredMessage[];
  /** false: tool results whose call is not in the conversation (never sent without it). */
  complete: boolean;
  /** The next older message after the block, already read. */
  after: StoredMessage | null;
}

async function readBlock(first: StoredMessage, source: NewestFirst): Promise<Block> {
  if (first.role !== 'tool') return { messages: [first], complete: true, after: await source.next() };
  const messages = [first];
  let older = await source.next();
  while (older !== null && older.role === 'tool') {
    messages.push(older);
    older = await source.next();
  }
  if (older !== null && older.role === 'assistant' && older.toolCalls && older.toolCalls.length > 0) {
    messages.push(older);
    return { messages, complete: true, after: await source.next() };
  }
  return { messages, complete: false, after: older };
}

async function hasUserMessage(from: StoredMessage | null, source: NewestFirst): Promise<boolean> {
  for (let m = from; m !== null; m = await source.next()) if (m.role === 'user') return true;
  return false;
}

function tooSmall(budget: number, block: StoredMessage[], used: number): string {
  const need = used + block.reduce((n, m) => n + m.tokenCount, 0);
  return `the newest user message does not fit the token budget (maxTokens ${budget}; at least ${need} needed)`;
}

/** Entries for people reading the transcript only: turns that ended without an answer, and hand-off markers. */
export function isPeopleOnly(role: MessageRole): role is 'status' | 'handoff' {
  return role === 'status' || role === 'handoff';
}

/**
 * The role a model reads a stored message as: an operator's message is the assistant's side of the
 * conversation (the bot, answering again after a hand-back, knows what the person said).
 */
export function modelRoleOf(role: Exclude<MessageRole, 'status' | 'handoff'>): ModelRole {
  return role === 'human_agent' ? 'assistant' : role;
}

/**
 * The conversation as a model may see it: people-only entries (status and hand-off markers) are
 * skipped, so they neither reach a model nor use its budget.
 */
export function modelTurns(source: NewestFirst): NewestFirst {
  return {
    async next() {
      for (let m = await source.next(); m !== null; m = await source.next()) if (!isPeopleOnly(m.role)) return m;
      return null;
    },
  };
}

export function toContextMessage(m: Pick<StoredMessage, 'content' | 'toolCalls' | 'toolCallId'> & { role: ModelRole }): ContextMessage {
  const out: ContextMessage = { role: m.role, content: m.content };
  if (m.toolCalls && m.toolCalls.length > 0) out.toolCalls = m.toolCalls;
  if (m.toolCallId !== undefined) out.toolCallId = m.toolCallId;
  return out;
}

/** Wraps an array that is already newest first (tests, and the hot tail). */
export function fromArray(newestFirst: StoredMessage[], then?: NewestFirst): NewestFirst {
  let i = 0;
  return { next: async () => (i < newestFirst.length ? (newestFirst[i++] as StoredMessage) : then ? then.next() : null) };
}
