import { z } from 'zod';
import type { Bus, ActionMeta } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { Logger } from 'pino';

/** What a tool may use while it runs: the bus (as the run's caller), the run's identity and its abort signal. */
export interface ToolContext {
  bus: Bus<Catalog>;
  meta: ActionMeta;
  runId: string;
  tenantId: string;
  conversationId: string | null;
  signal: AbortSignal;
  timeoutMs: number;
  /** When the run is stopped for its max run time (epoch ms): a tool's own timeout leaves the model time to answer. */
  deadline: number;
  log: Logger;
  /** Records something the run's result should carry (e.g. a hand-off request). */
  note(key: string, value: unknown): void;
}

export interface ToolDef<A extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  args: A;
  /** When set, only users with one of these roles (from their token, in the envelope) may use it. */
  roles?: readonly string[];
  /** The JSON schema offered to the model when it is not derived from `args` (an MCP server's or an HTTP tool's own). */
  parameters?: Record<string, unknown>;
  run(args: z.output<A>, ctx: ToolContext): Promise<unknown>;
}

export function defineTool<A extends z.ZodType>(def: ToolDef<A>): ToolDef<A> {
  return def;
}

// Converting a zod schema costs about 0.3 ms; tools are fixed at start, so each is converted once.
const schemas = new WeakMap<ToolDef, Record<string, unknown>>();

/** The JSON schema the model sees, derived from the same zod schema that checks the model's arguments. */
export function parametersOf(tool: ToolDef): Record<string, unknown> {
  if (tool.parameters) return tool.parameters;
  const cached = schemas.get(tool);
  if (cached) return cached;
  const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.args) as Record<string, unknown>;
  schemas.set(tool, schema);
  return schema;
}
