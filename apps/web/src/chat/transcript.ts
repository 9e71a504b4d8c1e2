/**
 * What the chat shows: turns folded from the saved history (tool calls and tool results attach to
 * the assistant answer that used them) and live turns built from a run's streamed frames.
 */
import type { HistoryMessage, ServerFrame } from '@parley/contracts';

export interface Step {
  seq: number;
  kind: 'log' | 'tool_call' | 'tool_result';
  name: string;
  data?: unknown;
  progress?: number;
}

export type TurnStatus = 'done' | 'streaming' | 'cancelled' | 'failed';

export interface Turn {
  key: string;
  /** `human`: a person of the support staff (`author`); `marker`: the conversation changed hands. */
  role: 'user' | 'assistant' | 'system' | 'human' | 'marker';
  text: string;
  author?: string;
  steps: Step[];
  status: TurnStatus;
  runId?: string;
  error?: string;
  tokens?: number;
  latencyMs?: number;
  createdAt?: string;
}

export function turnsFromHistory(messages: HistoryMessage[]): Turn[] {
  const out: Turn[] = [];
  let steps: Step[] = [];
  for (const m of messages) {
    if (m.role === 'human_agent' || m.role === 'handoff') {
      out.push(handoffTurn(m));
      continue;
    }
    if (m.role === 'status') {
      // A turn that ended without an answer: shown like the live turn ended, with the steps it took.
      const cancelled = m.status?.outcome === 'cancelled';
      const turn: Turn = {
        key: m.messageId,
        role: 'assistant',
        text: '',
        steps,
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? 'Stopped.' : m.content,
      };
      if (m.runId) turn.runId = m.runId;
      turn.createdAt = m.createdAt;
      out.push(turn);
      steps = [];
      continue;
    }
    if (m.role === 'tool') {
      steps.push({ seq: m.seq, kind: 'tool_result', name: nameOfCall(steps, m.toolCallId), data: { result: m.content } });
      continue;
    }
    if (m.role === 'assistant' && m.toolCalls?.length) {
      for (const c of m.toolCalls) steps.push({ seq: m.seq, kind: 'tool_call', name: c.name, data: { id: c.id, arguments: parseMaybe(c.arguments) } });
      if (!m.content) continue;
    }
    const turn: Turn = {
      key: m.messageId,
      role: m.role,
      text: m.content,
      steps: m.role === 'assistant' ? steps : [],
      status: 'done',
      tokens: m.tokenCount,
      createdAt: m.createdAt,
    };
    if (m.runId) turn.runId = m.runId;
    if (m.latencyMs !== undefined) turn.latencyMs = m.latencyMs;
    if (m.role === 'assistant') steps = [];
    out.push(turn);
  }
  // Tool steps of a turn whose answer is not saved yet (still running, or failed) still show.
  if (steps.length) out.push({ key: `steps-${steps[0]?.seq ?? 0}`, role: 'assistant', text: '', steps, status: 'done' });
  return out;
}

type RunFrame = Extract<ServerFrame, { type: 'agent.token' | 'agent.step' | 'agent.message' | 'agent.error' }>;

/** Applies one streamed frame to a live turn (a new object, so views re-render). */
export function applyFrame(t: Turn, f: RunFrame): Turn {
  switch (f.type) {
    case 'agent.token':
      return { ...t, text: t.text + f.delta };
    case 'agent.step': {
      const step: Step = { seq: f.seq, kind: f.kind, name: f.name };
      if (f.data !== undefined) step.data = f.data;
      if (f.progress !== undefined) step.progress = f.progress;
      return { ...t, steps: [...t.steps, step] };
    }
    case 'agent.message':
      return { ...t, text: f.text, status: 'done', tokens: f.usage.completionTokens };
    case 'agent.error':
      return { ...t, status: f.code === 'cancelled' ? 'cancelled' : 'failed', error: f.code === 'cancelled' ? 'Stopped.' : f.message };
  }
}

/** One line for a tool step: what it was called with, or what it returned. */
export function summarize(data: unknown, max = 140): string {
  if (data === undefined || data === null) return '';
  const d = data as Record<string, unknown>;
  const v = typeof d === 'object' && ('arguments' in d || 'result' in d) ? (d['arguments'] ?? d['result']) : d;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function nameOfCall(steps: Step[], callId: string | undefined): string {
  const call = steps.find((s) => s.kind === 'tool_call' && (s.data as { id?: string } | undefined)?.id === callId);
  return call?.name ?? 'tool';
}

function parseMaybe(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** An operator's message (named), or the marker of a person joining or leaving, or of waiting for one. */
function handoffTurn(m: HistoryMessage): Turn {
  const name = m.handoff?.agent?.name ?? 'A person';
  const base = { key: m.messageId, steps: [], status: 'done' as const, createdAt: m.createdAt };
  if (m.role === 'human_agent') return { ...base, role: 'human', text: m.content, author: name };
  const event = m.handoff?.event;
  const text = event === 'joined' ? `${name} joined` : event === 'left' ? `${name} left; the assistant answers again` : m.content;
  return { ...base, role: 'marker', text };
}

/** The live frames of a hand-off as turns (null for any other frame). */
export function handoffTurnOf(f: ServerFrame): Turn | null {
  const base = { steps: [], status: 'done' as const };
  if (f.type === 'human.message') return { ...base, key: f.messageId, role: 'human', text: f.text, author: f.name, createdAt: f.createdAt };
  if (f.type === 'agent.joined') return { ...base, key: `joined-${Date.now()}`, role: 'marker', text: `${f.name} joined` };
  if (f.type === 'agent.left') return { ...base, key: `left-${Date.now()}`, role: 'marker', text: `${f.name} left; the assistant answers again` };
  return null;
}
