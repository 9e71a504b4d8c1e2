/**
 * The gateway's edge (issue 17, items 6, 7, 9): where it listens, who gets dev tokens, rate limits
 * shared by replicas, /metrics off the public port, sockets closed at token expiry, forged vs
 * expired tokens, CORS for REST and the WebSocket Origin. Real Redis, PostgreSQL and services.
 */
import { request, type IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { WebSocket, rawSocket, startGateway, startServices, token, type RunningGateway, type Services } from './support/gateway-env.js';

let prefix: string;
let db: string;
let services: Services;
const gateways: RunningGateway[] = [];
let n = 0;

beforeAll(async () => {
  prefix = uniquePrefix('gwedge');
  db = await createTestDatabase();
  services = await startServices(prefix, urlForDatabase(db));
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await services?.stop();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  await dropTestDatabase(db);
});

/** A gateway on the shared services (one bus prefix: every gateway here is a replica of the others). */
async function gateway(vars: Record<string, string> = {}): Promise<RunningGateway> {
  const g = await startGateway(prefix, vars);
  gateways.push(g);
  return g;
}

/** Each test's users are its own, so rate-limit budgets never carry over between tests. */
const user = (name: string) => `${name}-${++n}`;

/** A non-loopback address of this machine, if it has one: a caller from "the network" without leaving it. */
const lanIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

const json = { 'content-type': 'application/json' };
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, ...json });
const portOf = (url: string) => new URL(url).port;

function startRun(g: RunningGateway, t: string): Promise<Response> {
  return fetch(`${g.http}/api/v1/runs`, { method: 'POST', headers: bearer(t), body: JSON.stringify({ input: { text: 'hello' } }) });
}

/** Opens a raw socket and waits for the welcome and the first history frame. */
async function openSocket(url: string) {
  const s = rawSocket(url);
  await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'welcome and history' });
  return s;
}

/** POST with a chosen Host header (fetch will not set one), from 127.0.0.1. */
function postWithHost(port: string, path: string, host: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('listening address and dev tokens', () => {
  test.skipIf(!lanIp)("dev mode without HTTP_HOST listens on loopback only: the machine's network address is refused", async () => {
    const g = await gateway({ HTTP_HOST: '' });
    expect((await fetch(`${g.http}/healthz`)).status).toBe(200);
    const fromNetwork = await fetch(`http://${lanIp}:${portOf(g.http)}/healthz`).then(
      (r) => r.status,
      (err: unknown) => (err as { cause?: { code?: string } }).cause?.code ?? String(err),
    );
    expect(fromNetwork).toBe('ECONNREFUSED');
  });

  test.skipIf(!lanIp)('with HTTP_HOST=0.0.0.0, dev tokens are minted for loopback callers and refused to a network caller', async () => {
    const g = await gateway({ HTTP_HOST: '0.0.0.0', AUTH_DEV_TOKENS: 'true' });
    const local = await fetch(`${g.http}/api/v1/dev/token`, { method: 'POST', headers: json, body: '{}' });
    expect(local.status).toBe(200);
    expect(await local.json()).toMatchObject({ token: expect.any(String) });

    const remote = await fetch(`http://${lanIp}:${portOf(g.http)}/api/v1/dev/token`, { method: 'POST', headers: json, body: '{}' });
    expect(remote.status).toBe(403);
    const body = (await remote.json()) as { error: { message: string } };
    expect(body).toMatchObject({ error: { code: 'forbidden', retryable: false } });
    expect(body.error.message).toMatch(/only for requests from this machine/);
    expect(body).not.toHaveProperty('token');
    // The API itself still answers the network caller: only minting is local.
    expect((await fetch(`http://${lanIp}:${portOf(g.http)}/healthz`)).status).toBe(200);
  });

  test('a loopback connection carrying a foreign Host (DNS rebinding) gets no dev token', async () => {
    const g = await gateway({ AUTH_DEV_TOKENS: 'true' });
    const port = portOf(g.http);
    expect((await postWithHost(port, '/api/v1/dev/token', `localhost:${port}`)).status).toBe(200);
    const rebound = await postWithHost(port, '/api/v1/dev/token', `attacker.example:${port}`);
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toHaveProperty('token');
  });
});

describe('rate limits', () => {
  test('a burst of REST run starts: the budget is accepted, the rest get 429 with Retry-After and an ErrorBody', async () => {
    const g = await gateway({ RUNS_PER_MINUTE: '5' });
    const t = token({ sub: user('rest-burst') });
    const answers = await Promise.all(Array.from({ length: 12 }, () => startRun(g, t)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    for (const r of answers.filter((a) => a.status === 429)) {
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const { error: body } = (await r.json()) as { error: { code: string; retryable: boolean; message: string; details: { retryAfterMs: number } } };
      expect(body).toMatchObject({ code: 'rate_limited', retryable: true });
      expect(body.details.retryAfterMs).toBeGreaterThan(0);
      expect(body.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    // Another user's budget is untouched.
    expect((await startRun(g, token({ sub: user('rest-calm') }))).status).toBe(202);
  });

  test('a burst of WS history.get: the frame budget is answered, the rest get rate_limited with retryAfterMs', async () => {
    const g = await gateway({ WS_FRAMES_PER_MINUTE: '20' });
    const s = await openSocket(`${g.ws}?token=${token({ sub: user('ws-burst') })}`);
    const conversationId = s.frames.find((f) => f.type === 'welcome')?.conversationId as string;
    const before = s.frames.length;
    for (let i = 0; i < 60; i++) s.ws.send(JSON.stringify({ type: 'history.get', conversationId }));
    await waitFor(() => s.frames.length - before >= 60, { what: 'an answer to every frame' });
    const answers = s.frames.slice(before);
    expect(answers.filter((f) => f.type === 'history')).toHaveLength(20);
    const limited = answers.filter((f) => f.type === 'error');
    expect(limited).toHaveLength(40);
    for (const f of limited) {
      expect(f).toMatchObject({ code: 'rate_limited', ref: 'history.get' });
      expect(f.retryAfterMs).toEqual(expect.any(Number));
      expect(f.retryAfterMs as number).toBeGreaterThan(0);
    }
    s.ws.close();
  });

  test('two replicas share one budget: REST and WS run starts on either count together, and so do other frames', async () => {
    const limits = { RUNS_PER_MINUTE: '4', WS_FRAMES_PER_MINUTE: '3' };
    const [a, b] = await Promise.all([gateway(limits), gateway(limits)]);
    const t = token({ sub: user('replicated') });
    const onB = await openSocket(`${b.ws}?token=${t}`);
    const onA = await openSocket(`${a.ws}?token=${t}`);
    const reply = async (s: typeof onA, frame: Record<string, unknown>, accept: string) => {
      const from = s.frames.length;
      s.ws.send(JSON.stringify(frame));
      return waitFor(() => s.frames.slice(from).find((f) => f.type === accept || f.type === 'error'), { what: `an answer to ${String(frame.type)}` });
    };

    expect((await startRun(a, t)).status).toBe(202);
    expect((await startRun(b, t)).status).toBe(202);
    expect(await reply(onB, { type: 'chat.message', id: 'm1', text: 'hi' }, 'chat.accepted')).toMatchObject({ type: 'chat.accepted' });
    expect((await startRun(a, t)).status).toBe(202);
    // Four run starts across two replicas and two protocols: the fifth is refused on both.
    expect((await startRun(b, t)).status).toBe(429);
    expect(await reply(onA, { type: 'chat.message', id: 'm2', text: 'hi' }, 'chat.accepted')).toMatchObject({
      code: 'rate_limited',
      retryAfterMs: expect.any(Number),
    });

    expect(await reply(onA, { type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    expect(await reply(onB, { type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    expect(await reply(onA, { type: 'ping' }, 'pong')).toMatchObject({ type: 'pong' });
    expect(await reply(onB, { type: 'ping' }, 'pong')).toMatchObject({ type: 'error', code: 'rate_limited', ref: 'ping' });
    onA.ws.close();
    onB.ws.close();
  });
});

describe('/metrics', () => {
  test('the public port answers 404 for /metrics; the internal port serves it (and the probes)', async () => {
    const g = await gateway();
    const pub = await fetch(`${g.http}/metrics`);
    expect(pub.status).toBe(404);
    expect(await pub.text()).not.toContain('parley_gateway');
    expect((await fetch(`${g.http}/readyz`)).status).toBe(200);

    expect(g.metrics).not.toBe(g.http);
    const internal = await fetch(`${g.metrics}/metrics`);
    expect(internal.status).toBe(200);
    expect(await internal.text()).toContain('parley_gateway_connections');
    expect((await fetch(`${g.metrics}/readyz`)).status).toBe(200);
  });
});

describe('tokens', () => {
  const good = { iss: 'https://idp.test', aud: 'parley' };
  let g: RunningGateway;
  beforeAll(async () => {
    g = await gateway({ AUTH_JWT_ISSUER: good.iss, AUTH_JWT_AUDIENCE: good.aud, AUTH_CLOCK_TOLERANCE_S: '0' });
  });

  test('an open socket is closed with 4401 when its token expires', async () => {
    const s = await openSocket(`${g.ws}?token=${token({ sub: user('short'), expiresIn: 2, claims: good })}`);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const closed = await s.closed;
    expect(closed).toEqual({ code: 4401, reason: 'your sign-in expired; sign in again' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 1_000);
  }, 15_000);

  test('a token valid for longer than a timer can wait (40 days) keeps its socket', async () => {
    const s = await openSocket(`${g.ws}?token=${token({ sub: user('long'), expiresIn: 40 * 86_400, claims: good })}`);
    s.ws.send(JSON.stringify({ type: 'ping', t: 1 }));
    await waitFor(() => s.frames.some((f) => f.type === 'pong'), { what: 'pong on a socket that is still open' });
    s.ws.close();
    expect((await s.closed).code).not.toBe(4401);
  });

  const wsClose = async (t: string) => await rawSocket(`${g.ws}?token=${t}`).closed;
  const rest = async (t: string) => {
    const r = await fetch(`${g.http}/api/v1/flows`, { headers: { authorization: `Bearer ${t}` } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  const forged: Array<[string, () => string]> = [
    ['wrong signature', () => token({ secret: 'another-secret-0123456789abcdef0123', claims: good })],
    ['wrong signature and expired', () => token({ secret: 'another-secret-0123456789abcdef0123', expiresIn: -600, claims: good })],
    ['wrong issuer', () => token({ claims: { ...good, iss: 'https://evil.test' } })],
    ['wrong audience', () => token({ claims: { ...good, aud: 'someone-else' } })],
    ['alg none', () => token({ alg: 'none', claims: good })],
  ];
  test.each(forged)('%s: told "invalid token", never that the sign-in expired', async (_name, make) => {
    const t = make();
    expect(await wsClose(t)).toEqual({ code: 4401, reason: 'invalid token' });
    expect(await rest(t)).toEqual({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'invalid token', retryable: false, details: { reason: 'invalid' }, requestId: expect.any(String) } },
    });
  });

  test('a genuine expired token: told the sign-in expired', async () => {
    const t = token({ expiresIn: -60, claims: good });
    expect(await wsClose(t)).toEqual({ code: 4401, reason: 'your sign-in expired; sign in again' });
    expect(await rest(t)).toEqual({
      status: 401,
      body: {
        error: {
          code: 'unauthorized',
          message: 'your sign-in expired; sign in again',
          retryable: false,
          details: { reason: 'expired' },
          requestId: expect.any(String),
        },
      },
    });
  });
});

describe('CORS', () => {
  const allowed = 'https://app.example.com';
  const foreign = 'https://evil.example';
  const preflight = (g: RunningGateway, origin: string) =>
    fetch(`${g.http}/api/v1/runs`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  test("REST: a listed origin's preflight is answered and its requests get CORS headers; another origin is refused", async () => {
    const g = await gateway({ CORS_ORIGINS: `${allowed}, https://other.example.com:8443` });
    const ok = await preflight(g, allowed);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');

    const refused = await preflight(g, foreign);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden' } });

    const t = token({ sub: user('cors') });
    const read = await fetch(`${g.http}/api/v1/flows`, { headers: { authorization: `Bearer ${t}`, origin: allowed } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBe(allowed);
    expect(read.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('retry-after');
    const foreignRead = await fetch(`${g.http}/api/v1/flows`, { headers: { authorization: `Bearer ${t}`, origin: foreign } });
    expect(foreignRead.headers.get('access-control-allow-origin')).toBeNull();

    // The SSE stream (a hijacked reply) carries them too, or a listed page's EventSource could not read it.
    const { runId } = (await (await startRun(g, t)).json()) as { runId: string };
    const abort = new AbortController();
    const events = await fetch(`${g.http}/api/v1/runs/${runId}/events`, { headers: { authorization: `Bearer ${t}`, origin: allowed }, signal: abort.signal });
    expect(events.status).toBe(200);
    expect(events.headers.get('access-control-allow-origin')).toBe(allowed);
    abort.abort();
  });

  test('REST without CORS_ORIGINS: same-origin only, every cross-origin preflight is refused', async () => {
    const g = await gateway();
    const refused = await preflight(g, allowed);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  /** The upgrade's outcome: `welcome`, or the HTTP status it was refused with. */
  function upgrade(url: string, origin?: string): Promise<'welcome' | number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, origin === undefined ? {} : { origin });
      ws.on('unexpected-response', (_req: unknown, res: IncomingMessage) => {
        resolve(res.statusCode ?? 0);
        res.resume();
        ws.terminate();
      });
      ws.on('message', () => {
        resolve('welcome');
        ws.close();
      });
      ws.on('error', (err: Error) => {
        if (!/Unexpected server response/.test(err.message)) reject(err);
      });
    });
  }

  test('WebSocket: a foreign Origin is refused with 403 before the upgrade; no Origin, the same origin and listed ones connect', async () => {
    const g = await gateway({ CORS_ORIGINS: allowed });
    const url = `${g.ws}?token=${token({ sub: user('ws-origin') })}`;
    expect(await upgrade(url, foreign)).toBe(403);
    expect(await upgrade(url, `http://127.0.0.1:${portOf(g.http)}`)).toBe('welcome');
    expect(await upgrade(url, allowed)).toBe('welcome');
    expect(await upgrade(url)).toBe('welcome');
  });
});
