/**
 * Test-only tool servers on loopback: a real MCP server (the SDK's McpServer over Streamable HTTP, stateless),
 * a plain HTTP tool endpoint, a server that accepts connections and never answers, and a closed port. Each
 * records the request headers it saw, so a test can check that a stored secret reached the server.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface ToolServer {
  url: string;
  /** Headers of every request received, oldest first. */
  seen: http.IncomingHttpHeaders[];
  /** Bodies (HTTP tool server) or tool calls (MCP server) received, oldest first. */
  calls: unknown[];
}

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeOnFinish(server: http.Server | net.Server, sockets: Set<net.Socket>): void {
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
}

/** `hang = true` makes it accept and never answer. Tools: `echo {text}`, `fail` (an isError result), `explode` (throws), `big` (a 100 000-character answer), `slow` (30 s). */
export async function startMcpTestServer(): Promise<ToolServer & { hang: boolean }> {
  const state = { hang: false };
  const seen: http.IncomingHttpHeaders[] = [];
  const calls: unknown[] = [];
  const build = () => {
    const server = new McpServer({ name: 'parley-test-tools', version: '1.0.0' });
    server.registerTool('echo', { description: 'Echoes the text back.', inputSchema: { text: z.string() } }, async ({ text }) => {
      calls.push({ tool: 'echo', text });
      return { content: [{ type: 'text', text: `echo: ${text}` }] };
    });
    server.registerTool('fail', { description: 'Always fails.' }, async () => ({ isError: true, content: [{ type: 'text', text: 'the widget is broken' }] }));
    server.registerTool('explode', { description: 'Throws.' }, async () => {
      throw new Error('kaboom');
    });
    server.registerTool('big', { description: 'A very long answer.' }, async () => ({ content: [{ type: 'text', text: 'x'.repeat(100_000) }] }));
    server.registerTool('slow', { description: 'Answers after 30 seconds.' }, async (extra) => {
      calls.push({ tool: 'slow' });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 30_000);
        extra.signal.addEventListener('abort', () => (clearTimeout(t), resolve()));
      });
      return { content: [{ type: 'text', text: 'done' }] };
    });
    return server;
  };
  const httpServer = http.createServer((req, res) => {
    seen.push(req.headers);
    // Hanging: the connection is accepted and read, and never answered.
    if (state.hang) return void req.resume();
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
  const sockets = new Set<net.Socket>();
  closeOnFinish(httpServer, sockets);
  const port = await listen(httpServer);
  return Object.assign(state, { url: `http://127.0.0.1:${port}/mcp`, seen, calls });
}

/** `POST /echo` and `GET /echo` answer `{received: body or query}`; `/fail` answers 500. */
export async function startHttpToolServer(): Promise<ToolServer> {
  const seen: http.IncomingHttpHeaders[] = [];
  const calls: unknown[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const received = req.method === 'GET' ? Object.fromEntries(url.searchParams) : (JSON.parse(Buffer.concat(chunks).toString() || '{}') as unknown);
      calls.push(received);
      if (url.pathname === '/fail') return void res.writeHead(500, { 'content-type': 'text/plain' }).end('database on fire');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
    });
  });
  const sockets = new Set<net.Socket>();
  closeOnFinish(server, sockets);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, seen, calls };
}

/** Accepts connections and reads what is sent, and never answers. */
export async function startHangingServer(): Promise<string> {
  const server = net.createServer((socket) => socket.resume());
  const sockets = new Set<net.Socket>();
  closeOnFinish(server, sockets);
  const port = await listen(server);
  return `http://127.0.0.1:${port}/mcp`;
}

/** A loopback URL where nothing listens (a port taken, then released). */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/mcp`;
}
