/**
 * One error shape for everything the gateway answers over REST, Fastify's own refusals included:
 * `{ error: { code, message, retryable, requestId, details? } }`, with `x-request-id` on every
 * response; a caller's sane request id is kept (header, body, log lines), a hostile one replaced.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';

let gw: RunningGateway;
const logs: Array<Record<string, unknown>> = [];
const NEW_ID = /^[0-9a-f]{32}$/;

beforeAll(async () => {
  gw = await startGateway(`gwerr-${process.pid}-${Date.now()}`, { CORS_ORIGINS: 'https://app.example' }, { logs });
}, 60_000);
afterAll(async () => {
  await gw?.close();
});

const t = token({ sub: 'shape' });
const json = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json', ...extra });

describe('one error shape', () => {
  test('every class of refusal answers { error: { code, message, retryable, requestId } } and the x-request-id header', async () => {
    const cases: Array<[string, string, RequestInit, number, string]> = [
      ['bad JSON', '/api/v1/runs', { method: 'POST', headers: json(), body: '{"input":' }, 400, 'invalid_payload'],
      ['validation', '/api/v1/runs', { method: 'POST', headers: json(), body: JSON.stringify({ input: 'not an object' }) }, 400, 'invalid_payload'],
      [
        'too large',
        '/api/v1/runs',
        { method: 'POST', headers: json(), body: JSON.stringify({ input: { text: 'x'.repeat(2 * 1024 * 1024) } }) },
        413,
        'payload_too_large',
      ],
      ['media type', '/api/v1/runs', { method: 'POST', headers: json({ 'content-type': 'application/xml' }), body: '<run/>' }, 415, 'invalid_payload'],
      ['bad URL', '/api/v1/runs/%ED%A0%80', { headers: json() }, 400, 'invalid_payload'],
      ['unknown route', '/api/v1/no-such-route', { headers: json() }, 404, 'not_found'],
      ['no token', '/api/v1/flows', {}, 401, 'unauthorized'],
      ['staff only', '/api/v1/agents', { headers: json() }, 403, 'forbidden'],
      [
        'foreign origin',
        '/api/v1/runs',
        { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } },
        403,
        'forbidden',
      ],
    ];
    for (const [what, path, init, status, code] of cases) {
      const res = await fetch(`${gw.http}${path}`, init);
      expect(res.status, what).toBe(status);
      const id = res.headers.get('x-request-id');
      expect(id, what).toMatch(NEW_ID);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body, what).toEqual({ error: expect.objectContaining({ code, message: expect.any(String), retryable: false, requestId: id }) });
      expect(Object.keys(body), what).toEqual(['error']);
    }
  });

  test('a validation refusal names the field in the message and in details.fields', async () => {
    const res = await fetch(`${gw.http}/api/v1/runs`, { method: 'POST', headers: json(), body: JSON.stringify({ input: 'x' }) });
    const { error } = (await res.json()) as { error: { message: string; details: { fields: string[] } } };
    expect(error.message).toMatch(/^input: /);
    expect(error.details.fields).toEqual(['input']);
  });

  test('a request Node cannot parse is answered on the socket in the same shape, with a request id', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(new URL(gw.http).port), '127.0.0.1', () => s.write('GARBAGE / HTTP/9\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += String(d)));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    const id = /x-request-id: ([0-9a-f]{32})/.exec(raw)?.[1];
    expect(id).toBeDefined();
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'invalid_payload', message: 'the request is not valid HTTP', retryable: false, requestId: id },
    });
  });
});

describe('x-request-id', () => {
  test("a caller's sane id is answered in the header and the body, and is on the request's log line", async () => {
    const mine = 'client-42.retry:1_A';
    const res = await fetch(`${gw.http}/api/v1/no-such-route`, { headers: { 'x-request-id': mine } });
    expect(res.headers.get('x-request-id')).toBe(mine);
    expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe(mine);
    // The line is written when the response is done, which may be just after the client has it.
    const line = await waitFor(() => logs.find((l) => l['msg'] === 'request' && l['requestId'] === mine), { timeoutMs: 5_000, what: 'the request log line' });
    expect(line).toMatchObject({ status: 404, route: 'unmatched' });
  });

  test('successful responses carry one too', async () => {
    const res = await fetch(`${gw.http}/healthz`);
    expect(res.headers.get('x-request-id')).toMatch(NEW_ID);
  });

  test('a hostile or oversized id is replaced by a new one, never echoed', async () => {
    for (const hostile of ['x'.repeat(65), 'a b', '<script>alert(1)</script>', '../../etc/passwd', '-leading-dash', 'caf\u00e9'.normalize('NFD')]) {
      const res = await fetch(`${gw.http}/api/v1/no-such-route`, {
        headers: { 'x-request-id': encodeURI(hostile) === hostile ? hostile : encodeURI(hostile) },
      });
      const id = res.headers.get('x-request-id');
      expect(id, hostile).toMatch(NEW_ID);
      expect(((await res.json()) as { error: { requestId: string } }).error.requestId).toBe(id);
    }
  });
});
