import { withSpan } from '@parley/bus';
import { ActionError, type ToolCall } from '@parley/contracts';
import type { ToolSpec } from '@parley/llm';
import { parametersOf, type ToolContext, type ToolDef } from './define-tool.js';
import type { RunEvents } from '../runs/run-events.js';

export interface ToolOutcome {
  call: ToolCall;
  ok: boolean;
  /** What goes back to the model as the tool message. */
  content: string;
}

/**
 * The tools one run may use: the agent's enabled tools, minus those the user's roles do not allow.
 * Only these are offered to the model, and a call to anything else (a forged or hallucinated call)
 * is refused with a tool message instead of being run.
 */
export class Toolbox {
  private readonly allowed: Map<string, ToolDef>;

  constructor(
    all: readonly ToolDef[],
    enabled: readonly string[],
    roles: readonly string[],
    private readonly ctx: ToolContext,
    private readonly events: RunEvents,
    /** Tools whose calls run only once a person approved them (the agent's `requiresApproval`). */
    private readonly gated: readonly string[] = [],
  ) {
    this.allowed = new Map(all.filter((t) => enabled.includes(t.name) && permitted(t, roles)).map((t) => [t.name, t]));
  }

  /** Whether a call to this tool must wait for a decision (only tools this run may use at all). */
  requiresApproval(name: string): boolean {
    return this.allowed.has(name) && this.gated.includes(name);
  }

  /** A gated call a person rejected: its steps say so and the model is told why, nothing runs. */
  reject(call: ToolCall, reason: string | undefined): ToolOutcome {
    const content = JSON.stringify({ error: `the call to ${call.name} was rejected${reason ? `: ${reason}` : ''}; do not retry it, answer without it` });
    this.events.step('tool_call', call.name, { id: call.id, arguments: safeJson(call.arguments) });
    this.events.step('tool_result', call.name, { id: call.id, ok: false, rejected: true, ...(reason ? { reason } : {}) });
    return { call, ok: false, content };
  }

  get names(): string[] {
    return [...this.allowed.keys()];
  }

  specs(only?: readonly string[]): ToolSpec[] {
    return [...this.allowed.values()]
      .filter((t) => !only || only.includes(t.name))
      .map((t) => ({ name: t.name, description: t.description, parameters: parametersOf(t) }));
  }

  /** `approved`: a person approved this call (a gated tool is refused without it, whatever flow calls it). */
  async call(call: ToolCall, progress?: number, approved = false): Promise<ToolOutcome> {
    this.events.step('tool_call', call.name, { id: call.id, arguments: safeJson(call.arguments) }, progress);
    // GenAI conventions: `execute_tool <name>`; a refused or failed call is an outcome here, not a throw.
    const attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id };
    const outcome = await withSpan(`execute_tool ${call.name}`, { attributes }, async (span) => {
      const result = await this.execute(call, approved);
      if (span.isRecording()) span.setAttribute('parley.tool.ok', result.ok);
      return result;
    });
    this.events.step('tool_result', call.name, { id: call.id, ok: outcome.ok, result: safeJson(outcome.content) }, progress);
    return outcome;
  }

  private async execute(call: ToolCall, approved: boolean): Promise<ToolOutcome> {
    const tool = this.allowed.get(call.name);
    if (!tool) return { call, ok: false, content: JSON.stringify({ error: `tool "${call.name}" is not available to this user` }) };
    if (this.gated.includes(call.name) && !approved)
      return { call, ok: false, content: JSON.stringify({ error: `tool "${call.name}" needs a person's approval, which this flow cannot ask for` }) };
    const args = tool.args.safeParse(safeJson(call.arguments) ?? {});
    if (!args.success) return { call, ok: false, content: JSON.stringify({ error: `invalid arguments: ${args.error.issues[0]?.message ?? 'invalid'}` }) };
    try {
      const result = await tool.run(args.data, this.ctx);
      return { call, ok: true, content: JSON.stringify(result) };
    } catch (err) {
      // A run stopped by cancel/timeout must stop here, not be told to the model as a tool failure.
      if (this.ctx.signal.aborted) throw this.ctx.signal.reason;
      const message = err instanceof ActionError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      this.ctx.log.warn({ tool: call.name, err: message }, 'tool failed');
      return { call, ok: false, content: JSON.stringify({ error: `${call.name} failed: ${message}` }) };
    }
  }
}

function permitted(tool: ToolDef, roles: readonly string[]): boolean {
  return !tool.roles || tool.roles.some((r) => roles.includes(r));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
