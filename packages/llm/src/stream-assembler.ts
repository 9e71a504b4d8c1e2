import type { ChatResult, StreamChunk, ToolCall, Usage } from './types.js';
import { toFinishReason, toUsage, type WireChunk } from './wire.js';

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Folds chat-completion chunks into our stream events. Tool calls arrive as fragments keyed by
 * `index` (id and name in the first, argument text spread over the rest), so a call is only
 * emitted once the choice finishes and its arguments are whole.
 */
export class StreamAssembler {
  #text = '';
  #calls = new Map<number, PartialCall>();
  #emitted: ToolCall[] = [];
  #finishReason: string | null = null;
  #usage: Usage | null = null;
  #model: string;

  constructor(model: string) {
    this.#model = model;
  }

  push(chunk: WireChunk): StreamChunk[] {
    const out: StreamChunk[] = [];
    if (chunk.model) this.#model = chunk.model;
    if (chunk.usage) this.#usage = toUsage(chunk.usage);
    const choice = chunk.choices?.[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta?.content) {
      this.#text += delta.content;
      out.push({ type: 'token', delta: delta.content });
    }
    for (const d of delta?.tool_calls ?? []) {
      const call = this.#calls.get(d.index) ?? { id: '', name: '', arguments: '' };
      if (d.id) call.id = d.id;
      if (d.function?.name) call.name += d.function.name;
      if (d.function?.arguments) call.arguments += d.function.arguments;
      this.#calls.set(d.index, call);
    }
    if (choice.finish_reason) {
      this.#finishReason = choice.finish_reason;
      out.push(...this.#flushCalls());
    }
    return out;
  }

  /** The final event; also flushes calls of a provider that ended the stream without a finish_reason. */
  finish(): StreamChunk[] {
    const out = this.#flushCalls();
    const result: ChatResult = {
      text: this.#text,
      toolCalls: this.#emitted,
      finishReason: toFinishReason(this.#finishReason ?? (this.#emitted.length > 0 ? 'tool_calls' : null)),
      usage: this.#usage,
      model: this.#model,
    };
    out.push({ type: 'done', ...result });
    return out;
  }

  #flushCalls(): StreamChunk[] {
    const out: StreamChunk[] = [];
    const indexes = [...this.#calls.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      const call = this.#calls.get(index);
      if (!call) continue;
      // Some servers (older Ollama) omit ids; the call still needs one to pair with its result.
      const done: ToolCall = { id: call.id || `call_${index}`, name: call.name, arguments: call.arguments || '{}' };
      this.#emitted.push(done);
      out.push({ type: 'tool_call', ...done });
    }
    this.#calls.clear();
    return out;
  }
}
