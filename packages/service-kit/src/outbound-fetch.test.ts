import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { guardedFetch } from './outbound-fetch.js';
import { OutboundGuard, OutboundRefused } from './outbound-url.js';

let server: http.Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${req.headers['x-key'] ?? ''}`);
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.end('data: two\n\n'), 20);
      return;
    }
    res.writeHead(201, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('guardedFetch', () => {
  test('an allowed host: method, headers and body go out; status, headers and a streamed body come back', async () => {
    const guard = new OutboundGuard({ allowHosts: ['127.0.0.1'], allowCidrs: [] });
    const fetch = guardedFetch(guard);
    const res = await fetch(`http://127.0.0.1:${port}/x`, { method: 'POST', headers: { 'x-key': 'k1' }, body: '{}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ ok: true });
    expect(hits).toContain('POST /x k1');
    const stream = await fetch(`http://127.0.0.1:${port}/stream`);
    expect(await stream.text()).toBe('data: one\n\ndata: two\n\n');
    guard.close();
  });

  test('refuses a loopback literal before connecting, and a name resolving to loopback where it connects', async () => {
    const guard = new OutboundGuard({ allowHosts: [], allowCidrs: [] });
    const fetch = guardedFetch(guard);
    const before = hits.length;
    await expect(fetch(`http://127.0.0.1:${port}/x`)).rejects.toBeInstanceOf(OutboundRefused);
    // `localhost` passes the URL check (a name); the guard's agent refuses the address it resolves to.
    await expect(fetch(`http://localhost:${port}/x`)).rejects.toThrow(/resolves only to addresses this platform does not call/);
    expect(hits.length).toBe(before);
    guard.close();
  });

  test('an abort signal ends the request', async () => {
    const guard = new OutboundGuard({ allowHosts: ['127.0.0.1'], allowCidrs: [] });
    const controller = new AbortController();
    const pending = guardedFetch(guard)(`http://127.0.0.1:${port}/stream`, { signal: controller.signal }).then((r) => r.text());
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toThrow();
    guard.close();
  });
});
