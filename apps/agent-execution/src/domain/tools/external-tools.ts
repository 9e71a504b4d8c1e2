import { z } from 'zod';
import type { Logger } from 'pino';
import type { AgentConfig, HttpToolConfig, McpServerConfig } from '@parley/contracts';
import type { OutboundGuard } from '@parley/service-kit';
import type { ToolContext, ToolDef } from './define-tool.js';
import { argumentsProblem } from './json-schema.js';
import type { McpConnector, McpTool } from './mcp-client.js';
import type { ToolSecrets } from './tool-secrets.js';

/** Longest tool result told to the model; the rest is cut with a marker saying how much. */
export const MAX_RESULT_CHARS = 16_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 10_000;
/** Separates an MCP server's id from its tool's name in the name the model sees. */
export const MCP_NAME_SEPARATOR = '__';

/** A tool server's failure, told to the model as the tool's error (never a crashed run). */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';
}

export interface ExternalToolsDeps {
  connector: McpConnector;
  guard: OutboundGuard;
  secrets: ToolSecrets;
}

const AnyArgs = z.record(z.string(), z.unknown());

/**
 * The tools an agent's spec brings besides the built-ins, for one run: each MCP server's listed tools (those its
 * `tools` names, or all) as `<id>__<tool>`, and each HTTP tool by its name. A server that cannot be listed now
 * offers nothing to this run (logged, and a `log` step says so); its failure never fails the run.
 */
export class ExternalTools {
  constructor(private readonly d: ExternalToolsDeps) {}

  async forRun(
    agent: AgentConfig,
    tenantId: string,
    signal: AbortSignal,
    deadline: number,
    log: Logger,
    onUnavailable: (server: string, why: string) => void,
  ): Promise<ToolDef[]> {
    const servers = agent.mcpServers ?? [];
    const listed = await Promise.all(
      servers.map(async (server) => {
        try {
          const headers = this.d.secrets.open(tenantId, agent.agentId, 'mcp', server.id, server.headers);
          const tools = await this.d.connector.listTools({ url: server.url, headers }, budget(server.timeoutMs, deadline), signal);
          return exposed(server, tools).map((t) => this.mcpTool(agent, tenantId, server, t));
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          const why = messageOf(err);
          log.warn({ mcpServer: server.id, err: why }, 'mcp server unavailable; its tools are not offered to this run');
          onUnavailable(server.id, why);
          return [];
        }
      }),
    );
    return [...listed.flat(), ...(agent.httpTools ?? []).map((t) => this.httpTool(agent, tenantId, t))];
  }

  private mcpTool(agent: AgentConfig, tenantId: string, server: McpServerConfig, tool: McpTool): ToolDef {
    const { $schema: _ignored, ...parameters } = tool.inputSchema;
    return {
      name: mcpToolName(server.id, tool.name),
      description: tool.description.slice(0, 1_024),
      args: AnyArgs,
      parameters: { type: 'object', ...parameters },
      ...(server.roles ? { roles: server.roles } : {}),
      run: async (args, ctx) => {
        const headers = this.d.secrets.open(tenantId, agent.agentId, 'mcp', server.id, server.headers);
        const timeoutMs = budget(server.timeoutMs, ctx.deadline);
        const result = await this.d.connector.callTool({ url: server.url, headers }, tool.name, args as Record<string, unknown>, timeoutMs, ctx.signal);
        if (result.isError) throw new ToolFailure(`the tool answered with an error: ${truncate(result.text || 'no detail')}`);
        return result.structured ? bounded(result.structured) : { text: truncate(result.text) };
      },
    };
  }

  private httpTool(agent: AgentConfig, tenantId: string, tool: HttpToolConfig): ToolDef {
    return {
      name: tool.name,
      description: tool.description,
      args: AnyArgs,
      parameters: tool.inputSchema,
      ...(tool.roles ? { roles: tool.roles } : {}),
      run: async (args, ctx) => callHttpTool(this.d, tool, this.d.secrets.open(tenantId, agent.agentId, 'http', tool.name, tool.headers), args, ctx),
    };
  }
}

async function callHttpTool(d: ExternalToolsDeps, tool: HttpToolConfig, headers: Record<string, string>, args: unknown, ctx: ToolContext): Promise<unknown> {
  const problem = argumentsProblem(tool.inputSchema, args);
  if (problem) throw new ToolFailure(`invalid arguments: ${problem}`);
  const timeoutMs = budget(tool.timeoutMs, ctx.deadline);
  const url = new URL(tool.url);
  let body: string | undefined;
  if (tool.method === 'GET') {
    for (const [k, v] of Object.entries(args as Record<string, unknown>)) url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  } else body = JSON.stringify(args);
  const deadline = AbortSignal.timeout(timeoutMs);
  let res;
  try {
    res = await d.guard.request(url.toString(), {
      method: tool.method,
      headers: { ...headers, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body }),
      timeoutMs,
      signal: AbortSignal.any([ctx.signal, deadline]),
      maxBodyBytes: MAX_RESULT_CHARS * 4,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (deadline.aborted) throw new ToolFailure(`did not answer within ${timeoutMs} ms`, { cause: err });
    throw err;
  }
  if (res.status < 200 || res.status >= 300) throw new ToolFailure(`HTTP ${res.status}: ${truncate(res.body, 500)}`);
  try {
    return bounded(JSON.parse(res.body) as unknown);
  } catch {
    return { text: truncate(res.body) };
  }
}

/** The name the model sees for a server's tool: `<id>__<tool>`, in the alphabet and length model APIs accept. */
export function mcpToolName(serverId: string, tool: string): string {
  return `${serverId}${MCP_NAME_SEPARATOR}${tool.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

function exposed(server: McpServerConfig, tools: McpTool[]): McpTool[] {
  const only = server.tools?.length ? new Set(server.tools) : null;
  return only ? tools.filter((t) => only.has(t.name)) : tools;
}

/**
 * A tool's own timeout, shortened so the model still has time to answer before the run's max run time: a
 * quarter of what is left (at most 2 s) is kept for it.
 */
export function budget(timeoutMs: number | undefined, deadline: number): number {
  const remaining = deadline - Date.now();
  return Math.max(50, Math.min(timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, remaining - Math.min(2_000, remaining / 4)));
}

export function truncate(text: string, max = MAX_RESULT_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [truncated: ${text.length - max} more characters]`;
}

/** A JSON result as it is, or, when too long, its text cut with the marker. */
function bounded(value: unknown): unknown {
  const json = JSON.stringify(value) ?? 'null';
  return json.length <= MAX_RESULT_CHARS ? value : { text: truncate(json) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
