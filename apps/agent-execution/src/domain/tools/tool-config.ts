import { ActionError, type AgentSpec } from '@parley/contracts';
import type { OutboundGuard } from '@parley/service-kit';
import { DEFAULT_TOOL_TIMEOUT_MS, mcpToolName } from './external-tools.js';
import { schemaProblem } from './json-schema.js';
import type { McpConnector } from './mcp-client.js';
import type { AgentTools, ToolSecrets } from './tool-secrets.js';

export interface ToolConfigDeps {
  guard: OutboundGuard;
  connector: McpConnector;
  secrets: ToolSecrets;
  /** Names of the built-in tools: an HTTP tool may not take one. */
  builtinNames: readonly string[];
}

/**
 * Longest a save waits on an MCP server (its own timeoutMs when shorter). Servers are listed together, and with the
 * URL checks (DNS bounded at 3 s) a save stays within the bus call's 10 s.
 */
const SAVE_LIST_TIMEOUT_MS = 5_000;

/**
 * Checks the MCP servers and HTTP tools of an agent being created or updated, and returns them with their
 * header values sealed (see ToolSecrets.seal). `previous` is the agent's current spec (null on creation): a
 * header sent as SECRET_MASK keeps its stored value. Fields the caller left out are left out.
 *
 * Every refusal is `invalid_payload` naming the field (`details.fields`), the server or tool, and the rule:
 * - an HTTP tool named like a built-in, or whose inputSchema is not a usable JSON object schema;
 * - a URL the outbound guard refuses (scheme, credentials, a private address, a name resolving to one);
 * - an MCP server that cannot be reached or listed now (the admin is at the keyboard to fix it; a server
 *   that is down later gives the model a tool error instead), or a `tools` entry the server does not list.
 */
export async function prepareAgentTools(
  d: ToolConfigDeps,
  tenantId: string,
  agentId: string,
  next: AgentTools,
  previous: AgentSpec | null,
): Promise<AgentTools> {
  for (const [i, tool] of (next.httpTools ?? []).entries()) {
    if (d.builtinNames.includes(tool.name))
      throw invalid(`httpTools.${i}.name`, `HTTP tool "${tool.name}" has the name of a built-in tool; choose another name`);
    const problem = schemaProblem(tool.inputSchema);
    if (problem) throw invalid(`httpTools.${i}.inputSchema`, `HTTP tool "${tool.name}": inputSchema ${problem}`);
  }
  const urls = [
    ...(next.httpTools ?? []).map((t, i) => ({ url: t.url, field: `httpTools.${i}.url`, what: `HTTP tool "${t.name}"` })),
    ...(next.mcpServers ?? []).map((s, i) => ({ url: s.url, field: `mcpServers.${i}.url`, what: `MCP server "${s.id}"` })),
  ];
  const refusals = await Promise.all(urls.map((u) => d.guard.checkResolved(u.url)));
  refusals.forEach((why, i) => {
    const u = urls[i]!;
    if (why) throw invalid(u.field, `${u.what}: url ${why}`);
  });

  const sealed = d.secrets.seal(tenantId, agentId, next, previous);

  const servers = sealed.mcpServers ?? [];
  const listings = await Promise.all(
    servers.map(async (server) => {
      const headers = d.secrets.open(tenantId, agentId, 'mcp', server.id, server.headers);
      const timeoutMs = Math.min(server.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS, SAVE_LIST_TIMEOUT_MS);
      return d.connector.listTools({ url: server.url, headers }, timeoutMs, undefined, true).then(
        (tools) => ({ tools }),
        (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
      );
    }),
  );
  // Judged in the order of the spec, so the message names the first server at fault.
  servers.forEach((server, i) => {
    const listing = listings[i]!;
    if ('error' in listing) {
      throw invalid(`mcpServers.${i}.url`, `MCP server "${server.id}" at ${originOf(server.url)} cannot be reached or listed: ${listing.error}`);
    }
    const names = new Set(listing.tools.map((t) => t.name));
    const missing = (server.tools ?? []).filter((t) => !names.has(t));
    if (missing.length > 0) {
      throw invalid(
        `mcpServers.${i}.tools`,
        `MCP server "${server.id}" does not list ${missing.map((t) => `"${t}"`).join(', ')}; it lists: ${[...names].join(', ') || 'no tools'}`,
      );
    }
    const clash = listing.tools.map((t) => mcpToolName(server.id, t.name)).find((n) => d.builtinNames.includes(n));
    if (clash) throw invalid(`mcpServers.${i}.id`, `MCP server "${server.id}": its tool name ${clash} is a built-in's`);
  });
  return sealed;
}

function invalid(field: string, message: string): ActionError {
  return new ActionError('invalid_payload', message, { details: { fields: [field] } });
}

function originOf(raw: string): string {
  const u = new URL(raw);
  return `${u.protocol}//${u.host}`;
}
