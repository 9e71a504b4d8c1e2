import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OutboundGuard, OutboundRefused, outboundEnvShape } from './outbound-url.js';

let server: http.Server;
let port: number;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const strict = () => new OutboundGuard({ allowHosts: [], allowCidrs: [] });

async function refusal(guard: OutboundGuard, url: string): Promise<unknown> {
  const before = hits.length;
  const err = await guard.request(url, { method: 'POST', body: '{}', timeoutMs: 2_000 }).then(
    () => null,
    (e: unknown) => e,
  );
  // Refused before a single byte left: the server saw nothing.
  expect(hits.length).toBe(before);
  return err;
}

describe('addresses', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['64:ff9b::a9fe:a9fe', 'rfc6052'],
  ])('%s is refused (%s)', (address, range) => {
    expect(strict().addressRefusal(address)).toBe(range);
  });

  test.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('%s (public unicast) is allowed', (address) => {
    expect(strict().addressRefusal(address)).toBeNull();
  });
});

describe('URLs', () => {
  test.each([
    ['ftp://example.com/x', 'must use http or https'],
    ['file:///etc/passwd', 'must use http or https'],
    ['http://user:pw@example.com/', 'cannot carry credentials'],
    ['http://127.0.0.1:6379/', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://10.0.0.1/', 'private'],
    // WHATWG URL parsing normalises these to 127.0.0.1 and ::ffff:7f00:1 first.
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['not a url', 'is not a URL'],
  ])('%s is refused', (url, why) => {
    expect(strict().check(url)).toContain(why);
  });

  test('a public URL passes the static check', () => {
    expect(strict().check('https://chat.example.com/api')).toBeNull();
  });

  test('the env shape refuses a malformed CIDR', () => {
    expect(outboundEnvShape.OUTBOUND_ALLOW_CIDRS.safeParse('10.0.0.0/8,nonsense').success).toBe(false);
    expect(outboundEnvShape.OUTBOUND_ALLOW_CIDRS.safeParse('10.0.0.0/8, fd00::/8').success).toBe(true);
  });
});

describe('requests to a real local server', () => {
  test('a literal loopback address is refused before connecting', async () => {
    const err = await refusal(strict(), `http://127.0.0.1:${port}/hook`);
    expect(err).toBeInstanceOf(OutboundRefused);
    expect((err as Error).message).toContain('loopback');
  });

  test('a name is checked at connect time: localhost passes the static check, and the connection is still refused', async () => {
    const guard = strict();
    expect(guard.check(`http://localhost:${port}/hook`)).toBeNull();
    const err = await refusal(guard, `http://localhost:${port}/hook`);
    expect(err).toBeInstanceOf(OutboundRefused);
    expect((err as Error).message).toMatch(/localhost resolves only to addresses this platform does not call \(loopback/);
    // The same answer when saving configuration, before any request.
    expect(await guard.checkResolved(`http://localhost:${port}/`)).toContain('loopback');
  });

  test('the agents check by themselves: node:http with the guard agent cannot reach a literal loopback address', async () => {
    const guard = strict();
    const err = await new Promise<unknown>((resolve) => {
      const req = http.request(`http://127.0.0.1:${port}/direct`, { method: 'GET', agent: guard.agent('http:') }, () => resolve(null));
      req.on('error', resolve);
      req.end();
    });
    expect(err).toBeInstanceOf(OutboundRefused);
    expect(hits).not.toContain('GET /direct');
  });

  test('allow-listed hosts and CIDRs are reached; everything else stays refused', async () => {
    const byHost = new OutboundGuard({ allowHosts: ['127.0.0.1', 'localhost'], allowCidrs: [] });
    expect((await byHost.request(`http://127.0.0.1:${port}/a`, { method: 'POST', body: '{}', timeoutMs: 2_000 })).status).toBe(200);
    expect((await byHost.request(`http://localhost:${port}/b`, { method: 'POST', body: '{}', timeoutMs: 2_000 })).status).toBe(200);
    expect(byHost.check('http://10.0.0.1/')).toContain('private');

    const byCidr = new OutboundGuard({ allowHosts: [], allowCidrs: ['127.0.0.0/8', '::1/128'] });
    const res = await byCidr.request(`http://localhost:${port}/c`, { method: 'POST', body: '{}', timeoutMs: 2_000 });
    expect(res).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(byCidr.check('http://169.254.169.254/')).toContain('linkLocal');
    expect(hits).toEqual(expect.arrayContaining(['POST /a', 'POST /b', 'POST /c']));
    byHost.close();
    byCidr.close();
  });

  test('wildcard host entries match subdomains only', () => {
    const guard = new OutboundGuard({ allowHosts: ['*.internal.example'], allowCidrs: [] });
    expect(guard.hostAllowed('chat.internal.example')).toBe(true);
    expect(guard.hostAllowed('internal.example')).toBe(false);
    expect(guard.hostAllowed('evilinternal.example')).toBe(false);
  });
});
