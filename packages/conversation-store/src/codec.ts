import type { Channel, MessageRole } from '@parley/contracts';
import type { AppendInput, ConversationStatus, HotMeta, HotTail, StoredMessage } from './types.js';

/**
 * The message body as stored in the list, without `seq`: the append script prepends `"seq":N,`
 * once it has taken the number, so the JSON is never decoded in Lua.
 */
export function encodeMessageBody(input: AppendInput, createdAt: number): string {
  const body: Omit<StoredMessage, 'seq'> = {
    messageId: input.messageId,
    role: input.role,
    content: input.content,
    tokenCount: input.tokenCount,
    createdAt,
  };
  if (input.model !== undefined) body.model = input.model;
  if (input.latencyMs !== undefined) body.latencyMs = input.latencyMs;
  if (input.toolCalls !== undefined && input.toolCalls.length > 0) body.toolCalls = input.toolCalls;
  if (input.toolCallId !== undefined) body.toolCallId = input.toolCallId;
  if (input.runId !== undefined) body.runId = input.runId;
  if (input.usage !== undefined) body.usage = input.usage;
  if (input.metadata !== undefined) body.metadata = input.metadata;
  return JSON.stringify(body);
}

export function decodeMessage(raw: string): StoredMessage {
  return JSON.parse(raw) as StoredMessage;
}

/** Facts: the few numbers stats need per message, so stats never parse message content. */
export interface MessageFacts {
  createdAt: number;
  role: MessageRole;
  tokenCount: number;
  latencyMs: number | null;
  promptTokens: number;
  completionTokens: number;
}

export function encodeFacts(input: AppendInput, createdAt: number): string {
  return [createdAt, input.role, input.tokenCount, input.latencyMs ?? '', input.usage?.promptTokens ?? 0, input.usage?.completionTokens ?? 0].join(',');
}

export function decodeFacts(raw: string): MessageFacts {
  const [createdAt, role, tokens, latency, prompt, completion] = raw.split(',');
  return {
    createdAt: Number(createdAt),
    role: role as MessageRole,
    tokenCount: Number(tokens),
    latencyMs: latency ? Number(latency) : null,
    promptTokens: Number(prompt),
    completionTokens: Number(completion),
  };
}

/** The meta hash uses short field names: it is read on every request. */
export const F = {
  tenant: 't',
  agent: 'a',
  channel: 'ch',
  session: 's',
  user: 'u',
  title: 'ti',
  status: 'st',
  count: 'n',
  base: 'b',
  tokens: 'tc',
  createdAt: 'ca',
  lastActivityAt: 'la',
  closedAt: 'cl',
  dueAt: 'du',
} as const;

const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

export function decodeMeta(conversationId: string, h: Record<string, string>): HotMeta | null {
  const tenantId = h[F.tenant];
  if (!tenantId) return null;
  return {
    conversationId,
    tenantId,
    agentId: orNull(h[F.agent]),
    channel: orNull(h[F.channel]) as Channel | null,
    sessionId: orNull(h[F.session]),
    userId: orNull(h[F.user]),
    title: orNull(h[F.title]),
    status: (h[F.status] ?? 'open') as ConversationStatus,
    messageCount: Number(h[F.count] ?? 0),
    base: Number(h[F.base] ?? 0),
    tokenCount: Number(h[F.tokens] ?? 0),
    createdAt: Number(h[F.createdAt] ?? 0),
    lastActivityAt: Number(h[F.lastActivityAt] ?? 0),
    closedAt: h[F.closedAt] ? Number(h[F.closedAt]) : null,
    dueAt: Number(h[F.dueAt] ?? 0),
  };
}

/** A title from the first user message: first line, whitespace collapsed, at most 80 characters. */
export function titleFrom(content: string): string {
  const line = content.trim().split('\n', 1)[0]?.replace(/\s+/g, ' ') ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

/** The append script's snapshot: HGETALL's flat [field, value, …] and LRANGE's list. */
export function decodeTail(conversationId: string, rawMeta: unknown, rawTail: unknown): HotTail {
  const flat = Array.isArray(rawMeta) ? (rawMeta as string[]) : [];
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i] as string] = flat[i + 1] as string;
  const meta = decodeMeta(conversationId, h);
  // The script answers ok/dup only for a conversation it holds, of the caller's tenant.
  if (!meta) throw new Error(`append script returned no header for conversation ${conversationId}`);
  return { meta, messages: (Array.isArray(rawTail) ? (rawTail as string[]) : []).map(decodeMessage) };
}
