/**
 * A `fetch` for libraries that take one (the MCP SDK's Streamable HTTP transport) whose every request goes
 * through an OutboundGuard: the URL is checked first, and the connection is made by the guard's agents, so
 * the address is checked where it is connected (DNS rebinding safe) and no redirect is followed. The
 * response body is streamed (an MCP server answers with a Server-Sent Events stream), and the caller's
 * abort signal ends the request at any point.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { OutboundRefused, type OutboundGuard } from './outbound-url.js';

export type GuardedFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export function guardedFetch(guard: OutboundGuard): GuardedFetch {
  return (input, init = {}) => {
    const raw = String(input);
    const why = guard.check(raw);
    if (why) return Promise.reject(new OutboundRefused(`${originOf(raw)} ${why}`));
    const url = new URL(raw);
    const method = (init.method ?? 'GET').toUpperCase();
    let body: string | Uint8Array | undefined;
    if (typeof init.body === 'string' || init.body instanceof Uint8Array) body = init.body;
    else if (init.body instanceof URLSearchParams) body = init.body.toString();
    else if (init.body != null) return Promise.reject(new TypeError('guardedFetch sends string, Uint8Array or URLSearchParams bodies only'));
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(
        url,
        { method, headers, agent: guard.agent(url.protocol as 'http:' | 'https:'), ...(init.signal ? { signal: init.signal } : {}) },
        (res) => {
          const status = res.statusCode ?? 0;
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) out.append(name, v);
          }
          const empty = status === 204 || status === 304 || method === 'HEAD';
          if (empty) res.resume();
          try {
            resolve(
              new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers: out }),
            );
          } catch (err) {
            // A status outside 200–599 (e.g. 101) cannot be a Response.
            res.destroy();
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** The URL without its path and query, which may carry tokens. */
function originOf(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}`;
  } catch {
    return 'the URL';
  }
}
