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
  ) {
    this.allowed = new Map(all.filter((t) => enabled.includes(t.name) && permitted(t, roles)).map((t) => [t.name, t]));
  }

  get names(): string[] {
    return [...this.allowed.keys()];
  }

  specs(only?: readonly string[]): ToolSpec[] {
    return [...this.allowed.values()]
      .filter((t) => !only || only.includes(t.name))
      .map((t) => ({ name: t.name, description: t.description, parameters: parametersOf(t) }));
  }

  async call(call: ToolCall, progress?: number): Promise<ToolOutcome> {
    this.events.step('tool_call', call.name, { id: call.id, arguments: safeJson(call.arguments) }, progress);
    // GenAI conventions: `execute_tool <name>`; a refused or failed call is an outcome here, not a throw.
    const attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id };
    const outcome = await withSpan(`execute_tool ${call.name}`, { attributes }, async (span) => {
      const result = await this.execute(call);
      if (span.isRecording()) span.setAttribute('parley.tool.ok', result.ok);
      return result;
    });
    this.events.step('tool_result', call.name, { id: call.id, ok: outcome.ok, result: safeJson(outcome.content) }, progress);
    return outcome;
  }

  private async execute(call: ToolCall): Promise<ToolOutcome> {
    const tool = this.allowed.get(call.name);
    if (!tool) return { call, ok: false, content: JSON.stringify({ error: `tool "${call.name}" is not available to this user` }) };
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
