import { createHash } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { guardedFetch, type GuardedFetch, type OutboundGuard } from '@parley/service-kit';

export interface McpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface McpCallResult {
  isError: boolean;
  /** The text parts joined; other parts (images, resources) named by their type. */
  text: string;
  structured?: Record<string, unknown>;
}

export interface McpTarget {
  url: string;
  /** Plain header values (opened for this call only). */
  headers: Record<string, string>;
}

/** Most tools one server may offer (pages beyond are not read): the model's tool list must stay small. */
const MAX_LISTED_TOOLS = 128;

/**
 * MCP servers over Streamable HTTP (`@modelcontextprotocol/sdk`), every request through the OutboundGuard.
 *
 * A session is opened per operation (connect, list or call, close) rather than kept per server: calls are few
 * per run, a stateless session never outlives the run that needed it, and a server that restarts or drops
 * sessions costs nothing. Tool lists are cached per server (URL and headers) for `cacheMs`, so a run does not
 * pay a list on every turn; an edit of the agent changes the key only when URL or headers change.
 */
export class McpConnector {
  private readonly fetch: GuardedFetch;
  private readonly lists = new Map<string, { at: number; tools: McpTool[] }>();

  constructor(
    guard: OutboundGuard,
    private readonly cacheMs: number,
  ) {
    this.fetch = guardedFetch(guard);
  }

  /** The server's tools (cached); throws when it cannot be reached or answers with an error. */
  async listTools(target: McpTarget, timeoutMs: number, signal?: AbortSignal, fresh = false): Promise<McpTool[]> {
    const key = cacheKey(target);
    const hit = this.lists.get(key);
    if (!fresh && hit && Date.now() - hit.at < this.cacheMs) return hit.tools;
    const tools = await this.session(target, timeoutMs, signal, async (client, opts) => {
      const out: McpTool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor }, opts);
        for (const t of page.tools) {
          out.push({ name: t.name, description: t.description ?? t.title ?? t.name, inputSchema: t.inputSchema as Record<string, unknown> });
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined && out.length < MAX_LISTED_TOOLS);
      return out.slice(0, MAX_LISTED_TOOLS);
    });
    if (this.lists.size > 1_000) this.lists.clear();
    this.lists.set(key, { at: Date.now(), tools });
    return tools;
  }

  async callTool(target: McpTarget, name: string, args: Record<string, unknown>, timeoutMs: number, signal?: AbortSignal): Promise<McpCallResult> {
    return this.session(target, timeoutMs, signal, async (client, opts) => {
      const result = await client.callTool({ name, arguments: args }, undefined, opts);
      const parts = Array.isArray(result.content) ? (result.content as Array<{ type: string; text?: string }>) : [];
      const text = parts.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : `[${p.type}]`)).join('\n');
      const structured = result.structuredContent as Record<string, unknown> | undefined;
      return { isError: result.isError === true, text, ...(structured ? { structured } : {}) };
    });
  }

  /**
   * Connects, runs `fn`, closes. The whole of it is bounded by `timeoutMs` and `signal` (closing the client aborts
   * the transport's requests, so a server that accepted and never answers holds nothing afterwards).
   */
  private async session<T>(
    target: McpTarget,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    fn: (client: Client, opts: { signal: AbortSignal; timeout: number }) => Promise<T>,
  ): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    const stop = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const transport = new StreamableHTTPClientTransport(new URL(target.url), {
      fetch: this.fetch,
      requestInit: { headers: target.headers },
      // A dropped stream is the call's failure, told to the model; the run does not wait on reconnections.
      reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1_000, maxReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 1 },
    });
    const client = new Client({ name: 'parley-agent-execution', version: '1.0.0' });
    const opts = { signal: stop, timeout: timeoutMs };
    try {
      await client.connect(transport, opts);
      return await fn(client, opts);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted) throw new Error(`did not answer within ${timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      await client.close().catch(() => {
        /* closing a session the server already dropped: nothing left to release */
      });
    }
  }
}

function cacheKey(target: McpTarget): string {
  const h = createHash('sha256').update(target.url);
  for (const [n, v] of Object.entries(target.headers).sort(([a], [b]) => a.localeCompare(b))) h.update(`\u0000${n.toLowerCase()}\u0000${v}`);
  return h.digest('hex');
}
