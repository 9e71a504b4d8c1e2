import { ActionError, MAX_HEADER_VALUE, SECRET_MASK, type AgentSpec, type HttpToolConfig, type McpServerConfig } from '@parley/contracts';
import { isSealed, SecretBoxError, type SecretBox } from '@parley/service-kit';

export type ToolKind = 'mcp' | 'http';
type Headers = Record<string, string>;
export type AgentTools = Pick<AgentSpec, 'mcpServers' | 'httpTools'>;

/** Why a tool's headers cannot be opened; safe to tell the model and to log (never carries a value). */
export class UnreadableHeaders extends Error {
  override readonly name = 'UnreadableHeaders';
}

/**
 * Header values of an agent's MCP servers and HTTP tools are secrets (API keys, bearer tokens): they are
 * stored sealed with SECRETS_KEY, bound to the tenant, agent, tool and header name (a sealed value copied
 * to another agent or header does not open there), opened only when a call is made, and shown as
 * SECRET_MASK in every reply.
 */
export class ToolSecrets {
  constructor(private readonly box: SecretBox | null) {}

  static context(tenantId: string, agentId: string, kind: ToolKind, id: string, header: string): string {
    return `agent-tool-header\u0000${tenantId}\u0000${agentId}\u0000${kind}\u0000${id}\u0000${header.toLowerCase()}`;
  }

  /**
   * The tools of a spec being saved with every header value sealed: a plain value is sealed, SECRET_MASK keeps
   * the value stored for the same tool and header, a sealed value must open under this agent's context.
   * Throws `invalid_payload` naming the field otherwise.
   */
  seal(tenantId: string, agentId: string, next: AgentTools, previous: AgentTools | null): AgentTools {
    const out: AgentTools = {};
    if (next.mcpServers) {
      out.mcpServers = next.mcpServers.map((s, i) => {
        const before = previous?.mcpServers?.find((p) => p.id === s.id)?.headers;
        return withHeaders(s, this.sealHeaders(tenantId, agentId, 'mcp', s.id, s.headers, before, `mcpServers.${i}.headers`));
      });
    }
    if (next.httpTools) {
      out.httpTools = next.httpTools.map((t, i) => {
        const before = previous?.httpTools?.find((p) => p.name === t.name)?.headers;
        return withHeaders(t, this.sealHeaders(tenantId, agentId, 'http', t.name, t.headers, before, `httpTools.${i}.headers`));
      });
    }
    return out;
  }

  /** The plain headers of one tool, for the call being made now. */
  open(tenantId: string, agentId: string, kind: ToolKind, id: string, headers: Headers | undefined): Headers {
    if (!headers) return {};
    const plain: Headers = {};
    for (const [name, stored] of Object.entries(headers)) {
      if (!this.box) throw new UnreadableHeaders(`the ${name} header is encrypted and SECRETS_KEY is not set on agent-execution`);
      try {
        plain[name] = this.box.open(stored, ToolSecrets.context(tenantId, agentId, kind, id, name));
      } catch (err) {
        throw new UnreadableHeaders(`the ${name} header cannot be decrypted: ${err instanceof SecretBoxError ? err.message : 'unreadable'}`);
      }
    }
    return plain;
  }

  private sealHeaders(
    tenantId: string,
    agentId: string,
    kind: ToolKind,
    id: string,
    headers: Headers | undefined,
    before: Headers | undefined,
    field: string,
  ): Headers | undefined {
    if (!headers) return undefined;
    const sealed: Headers = {};
    for (const [name, value] of Object.entries(headers)) {
      const at = `${field}.${name}`;
      const context = ToolSecrets.context(tenantId, agentId, kind, id, name);
      if (value === SECRET_MASK) {
        const kept = before && Object.entries(before).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
        if (!kept) throw invalid(at, `${at} was sent masked (${SECRET_MASK}) but no value is stored for it; send the value`);
        sealed[name] = kept;
        continue;
      }
      if (!this.box) {
        throw invalid(
          at,
          `${at}: header values are stored encrypted and SECRETS_KEY is not set on agent-execution; an operator must set it (the gateway's key)`,
        );
      }
      if (isSealed(value)) {
        try {
          this.box.open(value, context);
        } catch {
          throw invalid(at, `${at} looks encrypted but does not open for this agent and header; send the plain value`);
        }
        sealed[name] = value;
        continue;
      }
      if (value.length > MAX_HEADER_VALUE) throw invalid(at, `${at} is longer than ${MAX_HEADER_VALUE} characters`);
      sealed[name] = this.box.seal(value, context);
    }
    return sealed;
  }
}

/** The spec as a client may see it: every header value replaced by SECRET_MASK. */
export function maskToolSecrets<T extends AgentTools>(spec: T): T {
  const mask = (h: Headers | undefined) => (h ? Object.fromEntries(Object.keys(h).map((n) => [n, SECRET_MASK])) : undefined);
  return {
    ...spec,
    ...(spec.mcpServers ? { mcpServers: spec.mcpServers.map((s) => withHeaders(s, mask(s.headers))) } : {}),
    ...(spec.httpTools ? { httpTools: spec.httpTools.map((t) => withHeaders(t, mask(t.headers))) } : {}),
  };
}

function withHeaders<T extends McpServerConfig | HttpToolConfig>(tool: T, headers: Headers | undefined): T {
  const { headers: _old, ...rest } = tool;
  return (headers ? { ...rest, headers } : rest) as T;
}

function invalid(field: string, message: string): ActionError {
  return new ActionError('invalid_payload', message, { details: { fields: [field] } });
}
