import { z } from 'zod';
import { storable, storableJson } from './text.js';

/**
 * Tools an agent gets besides the built-ins: the tools of MCP servers (Streamable HTTP) and plain HTTP
 * tools described by a JSON schema. Header values are secrets: agent-execution stores them sealed
 * (SecretBox) and every reply shows them as SECRET_MASK; an update that sends SECRET_MASK back keeps the
 * stored value.
 */
export const SECRET_MASK = '********';

/** Limits, so one agent's spec (stored whole per version, read on every run) stays small. */
export const TOOL_LIMITS = {
  mcpServers: 8,
  httpTools: 16,
  headers: 16,
  exposedTools: 64,
  schemaBytes: 16_384,
  minTimeoutMs: 100,
  maxTimeoutMs: 120_000,
} as const;

/** RFC 9110 token: what node:http accepts as a header name; refuses CR/LF, spaces and colons by construction. */
const HeaderName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)");
/**
 * What node:http sends as a header value (tab, visible ASCII, Latin-1): no CR, LF or other control character can
 * split a request. Plain values are at most MAX_HEADER_VALUE characters (agent-execution checks before sealing);
 * the bound here leaves room for the sealed form of one.
 */
export const MAX_HEADER_VALUE = 4_096;
const HeaderValue = storable(
  z
    .string()
    .min(1)
    .max(6_000)
    .regex(/^[\t\x20-\x7e\x80-\xff]+$/, 'must not contain control characters (CR, LF, …) or characters outside Latin-1'),
);
/** Headers a tool sends (values are secrets); names that frame the request itself are the platform's. */
export const ToolHeaders = z
  .record(HeaderName, HeaderValue)
  .refine((h) => Object.keys(h).length <= TOOL_LIMITS.headers, { message: `at most ${TOOL_LIMITS.headers} headers` })
  .refine((h) => !Object.keys(h).some((n) => RESERVED_HEADERS.has(n.toLowerCase())), {
    message: 'must not set host, content-length, content-type, transfer-encoding, connection, accept or mcp-session-id',
  });
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'accept',
  'mcp-session-id',
  'mcp-protocol-version',
]);

const HttpUrl = storable(
  z
    .string()
    .max(2_048)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), { message: 'must be an http or https URL' }),
);
const TimeoutMs = z.number().int().min(TOOL_LIMITS.minTimeoutMs).max(TOOL_LIMITS.maxTimeoutMs);
/** Roles whose users may make the agent use the tool; absent: every user (as for built-ins). */
const Roles = z
  .array(storable(z.string().min(1).max(64)))
  .min(1)
  .max(16);

/**
 * Short name of an MCP server: its tools reach the model as `<id>__<tool>`, so two servers (or a server and a
 * built-in) never offer the same name. Lower-case so the prefix reads the same everywhere.
 */
export const McpServerId = z
  .string()
  .min(1)
  .max(24)
  .regex(/^[a-z][a-z0-9_]*$/, 'must start with a letter and contain only a-z, 0-9 and _')
  .refine((s) => !s.includes('__'), { message: 'must not contain "__" (it separates the server id from the tool name)' });

export const McpServerConfig = z.object({
  id: McpServerId,
  /** The server's Streamable HTTP endpoint, e.g. https://tools.example.com/mcp. */
  url: HttpUrl,
  headers: ToolHeaders.optional(),
  /** Names of the server's tools to offer (as the server lists them); absent or empty: every tool it lists. */
  tools: z
    .array(storable(z.string().min(1).max(128)))
    .max(TOOL_LIMITS.exposedTools)
    .optional(),
  /** Longest a list or call may take (a connection included); the run's remaining time bounds it too. Default 10 s. */
  timeoutMs: TimeoutMs.optional(),
  roles: Roles.optional(),
});
export type McpServerConfig = z.infer<typeof McpServerConfig>;

/** A JSON schema object (validated as a schema by agent-execution), bounded in size. */
export const ToolInputSchema = storableJson(z.record(z.string(), z.unknown())).refine((s) => JSON.stringify(s).length <= TOOL_LIMITS.schemaBytes, {
  message: `must be at most ${TOOL_LIMITS.schemaBytes} bytes of JSON`,
});

/** A model-facing tool name: what OpenAI-compatible APIs accept, and never `__` (MCP tools use it). */
export const HttpToolName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'must start with a letter and contain only letters, digits, _ and -')
  .refine((s) => !s.includes('__'), { message: 'must not contain "__" (reserved for MCP server tools)' });

export const HttpToolConfig = z.object({
  name: HttpToolName,
  description: storable(z.string().min(1).max(1_024)),
  url: HttpUrl,
  /** POST sends the arguments as a JSON body, GET as query parameters. */
  method: z.enum(['GET', 'POST']),
  headers: ToolHeaders.optional(),
  /** The arguments' JSON schema, offered to the model as the tool's parameters; `{type: "object", …}`. */
  inputSchema: ToolInputSchema,
  timeoutMs: TimeoutMs.optional(),
  roles: Roles.optional(),
});
export type HttpToolConfig = z.infer<typeof HttpToolConfig>;

function uniqueBy<T>(key: (t: T) => string, what: string) {
  return (list: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', message: `${what} "${k}" appears twice`, path: [i] });
      seen.add(k);
    });
  };
}

export const McpServers = z
  .array(McpServerConfig)
  .max(TOOL_LIMITS.mcpServers)
  .superRefine(uniqueBy((s) => s.id, 'server id'));
export const HttpTools = z
  .array(HttpToolConfig)
  .max(TOOL_LIMITS.httpTools)
  .superRefine(uniqueBy((t) => t.name, 'tool name'));
