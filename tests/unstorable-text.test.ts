/**
 * Text PostgreSQL cannot store (U+0000, a lone surrogate) is refused at the edge with the field
 * named, before any store sees it; a poison action is refused by the bus without a retry; a
 * PostgreSQL data exception answers `internal` with a reference at once. No answer carries SQL.
 * Each case was a crash before: a retried, dead-lettered action whose SQL reached the client.
 */
import { describe, expect, test } from 'vitest';
import { createBus } from '@parley/bus';
import { busKeys, catalog } from '@parley/contracts';
import { newRedis, redisUrl, waitFor } from '@parley/testing';
import { rawSocket, token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('unstorable', { query: true, gateway: {} });

const NUL = 'a\u0000b';
const LONE = 'a\uD800b';
const INTERNAL_DETAIL = /insert|select|\$1|params|\n\s+at /i;
const bearer = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
const SERVICES = ['conversation', 'agent', 'query', 'migration', 'gateway'];

async function deadLetters(): Promise<number> {
  const r = newRedis();
  try {
    const counts = await Promise.all(SERVICES.map((s) => r.xlen(busKeys.deadLetters(platform.prefix, s))));
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    r.disconnect();
  }
}

describe('unstorable text', () => {
  test('WS: chat.message text and history.get conversationId with U+0000 or a lone surrogate get invalid_payload naming the field; the socket stays usable', async () => {
    const s = rawSocket(`${platform.gw.ws}?token=${token({ sub: 'nul-ws' })}`);
    await s.opened;
    await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'history on connect' });
    const answer = async (frame: Record<string, unknown>) => {
      const before = s.frames.length;
      s.ws.send(JSON.stringify(frame));
      return waitFor(() => s.frames.slice(before).find((f) => f.type === 'error' || f.type === 'history' || f.type === 'chat.accepted'), {
        what: `answer to ${frame.type as string}`,
      });
    };
    for (const bad of [NUL, LONE]) {
      const chat = await answer({ type: 'chat.message', id: 'm1', text: bad });
      expect(chat).toMatchObject({ type: 'error', code: 'invalid_payload' });
      expect(chat.message).toContain('text:');
      const history = await answer({ type: 'history.get', conversationId: `c-${bad}` });
      expect(history).toMatchObject({ type: 'error', code: 'invalid_payload' });
      expect(history.message).toContain('conversationId:');
      expect(JSON.stringify([chat, history])).not.toMatch(INTERNAL_DETAIL);
    }
    const before = s.frames.length;
    s.ws.send(JSON.stringify({ type: 'ping', t: 7 }));
    await waitFor(() => s.frames.slice(before).find((f) => f.type === 'pong' && f.t === 7), { what: 'pong' });
    s.ws.close();
    expect(await deadLetters()).toBe(0);
  });

  test('REST runs: U+0000 anywhere in input (values or keys) is a 400 naming the path; nothing reaches the bus', async () => {
    const t = token({ sub: 'nul-rest' });
    for (const input of [{ text: NUL }, { nested: { list: ['ok', LONE] } }, { [`k${NUL}`]: 'v' }]) {
      const res = await fetch(`${platform.gw.http}/api/v1/runs`, { method: 'POST', headers: bearer(t), body: JSON.stringify({ flow: 'chat', input }) });
      const { error: body } = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(400);
      expect(body.code).toBe('invalid_payload');
      expect(body.message).toMatch(/^input\.(text|nested\.list\.1|ka\uFFFDb): contains a character that cannot be stored/);
      expect(body.message).not.toMatch(INTERNAL_DETAIL);
    }
    expect(await deadLetters()).toBe(0);
  });

  test('knowledge search: q with U+0000 is a 400 naming q at once (it was a 504 after 10 s); uploads too', async () => {
    const reader = token({ sub: 'nul-kb', tenant: 'kbnul' });
    const started = Date.now();
    const res = await fetch(`${platform.gw.http}/api/v1/knowledge/search?q=${encodeURIComponent(NUL)}`, { headers: bearer(reader) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_payload', message: expect.stringMatching(/^q: contains a character/) } });
    expect(Date.now() - started).toBeLessThan(2_000);
    const admin = token({ sub: 'nul-kb-admin', tenant: 'kbnul', roles: ['admin'] });
    const upload = await fetch(`${platform.gw.http}/api/v1/knowledge/documents`, {
      method: 'POST',
      headers: bearer(admin),
      body: JSON.stringify({ title: 'T', text: `hello ${LONE}` }),
    });
    expect(upload.status).toBe(400);
    expect(await upload.json()).toMatchObject({ error: { code: 'invalid_payload', message: expect.stringMatching(/^text: contains a character/) } });
    const form = new FormData();
    form.append('file', new Blob([`# Notes\n\nline one\u0000line two`], { type: 'text/markdown' }), 'notes.md');
    const file = await fetch(`${platform.gw.http}/api/v1/knowledge/documents`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    expect(file.status).toBe(400);
    expect(await file.json()).toMatchObject({ error: { code: 'invalid_payload', message: expect.stringMatching(/^markdown: contains a character/) } });
    expect(await deadLetters()).toBe(0);
  });

  test("Fastify's own refusals (bad JSON, too large, wrong media type, bad URL, unknown route) are ErrorBody too", async () => {
    const t = token({ sub: 'shape' });
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/api/v1/runs', { method: 'POST', headers: bearer(t), body: '{"input":' }, 400, 'invalid_payload'],
      [
        '/api/v1/runs',
        { method: 'POST', headers: bearer(t), body: JSON.stringify({ input: { text: 'x'.repeat(2 * 1024 * 1024) } }) },
        413,
        'payload_too_large',
      ],
      [
        '/api/v1/runs',
        { method: 'POST', headers: { authorization: `Bearer ${t}`, 'content-type': 'application/xml' }, body: '<run/>' },
        415,
        'invalid_payload',
      ],
      ['/api/v1/runs/%ED%A0%80', { headers: bearer(t) }, 400, 'invalid_payload'],
      ['/api/v1/no-such-route', { headers: bearer(t) }, 404, 'not_found'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(`${platform.gw.http}${path}`, init);
      expect(res.status, path).toBe(status);
      expect(await res.json()).toEqual({ error: { code, message: expect.any(String), retryable: false, requestId: expect.any(String) } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  test('bus: an agent.run with unstorable input that bypassed the edge is refused invalid_payload on its first delivery, never run', async () => {
    const bus = createBus({ catalog, service: 'unstorable-test', redis: redisUrl, prefix: platform.prefix, instance: 'unstorable-test' });
    try {
      const started = Date.now();
      const err = await bus
        .call('agent.run', { runId: 'poison-run', input: { text: NUL }, channel: 'api' }, { tenantId: 't1', userId: 'u1' }, { timeoutMs: 10_000 })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid_payload', message: expect.stringContaining('input.text') });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await bus.close();
    }
    const r = newRedis();
    const letters = await r.xrange(busKeys.deadLetters(platform.prefix, 'agent'), '-', '+');
    r.disconnect();
    // Kept once for inspection as a poison action, attempts 1: no retry ran it again.
    expect(letters).toHaveLength(1);
    const f = letters[0]![1];
    expect(f[f.indexOf('code') + 1]).toBe('invalid_payload');
    expect(f[f.indexOf('attempts') + 1]).toBe('1');
  });

  test('a PostgreSQL data exception in a handler answers internal with a reference at once: no retry, no dead letter, no SQL', async () => {
    const r = newRedis();
    const before = await r.xlen(busKeys.deadLetters(platform.prefix, 'conversation'));
    const admin = token({ sub: 'stats-admin', tenant: 'stats', roles: ['admin'] });
    const started = Date.now();
    // A well-formed date PostgreSQL cannot represent (year 0): SQLSTATE 22008 in the archive query.
    const res = await fetch(`${platform.gw.http}/api/v1/stats?from=${encodeURIComponent('0000-01-01T00:00:00Z')}`, { headers: bearer(admin) });
    const { error: body } = (await res.json()) as { error: { code: string; message: string; ref?: string } };
    expect(res.status).toBe(500);
    expect(body).toMatchObject({ code: 'internal', ref: expect.any(String) });
    expect(body.message).toContain(body.ref);
    expect(JSON.stringify(body)).not.toMatch(INTERNAL_DETAIL);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await r.xlen(busKeys.deadLetters(platform.prefix, 'conversation'))).toBe(before);
    r.disconnect();
  });
});
