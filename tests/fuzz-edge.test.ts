/**
 * Property-based fuzzing of the gateway's edge against the real services: WS frames and REST
 * bodies full of control characters, U+0000, lone surrogates, huge strings, wrong types and deep
 * nesting. Whatever arrives: no 5xx (no `internal` on the socket), no internal detail in any answer,
 * the socket stays usable, every refusal has the ErrorBody shape, and nothing is dead-lettered.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { waitFor } from '@parley/testing';
import { rawSocket, token } from './support/gateway-env.js';
import { deadLettersWhenSettled, hostileValue, internalDetail, nastyString } from './support/fuzz.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('fuzzedge', { query: true, gateway: {} });

/** A body sent byte for byte (not JSON-encoded again). */
class Raw {
  constructor(readonly text: string) {}
}
function RAW(text: string): Raw {
  return new Raw(text);
}

/** Percent-encoding that keeps lone surrogates (as their WTF-8 bytes), which encodeURIComponent refuses. */
function pct(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0xd800 && c <= 0xdfff) out += `%ED%${(0xa0 | ((c >> 6) & 0x1f)).toString(16).toUpperCase()}%${(0x80 | (c & 0x3f)).toString(16).toUpperCase()}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

const FRAME_TYPES = ['chat.message', 'chat.cancel', 'history.get', 'conversation.new', 'resume', 'ping', 'launch'];
const FRAME_FIELDS = ['id', 'text', 'conversationId', 'agent', 'runId', 'lastSeq', 'before', 'limit', 't'];

/** A frame as text: a known type with hostile fields, any JSON at all, or not JSON. */
const clientId = fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/);
const frame: fc.Arbitrary<string> = fc.oneof(
  // Well-formed but for the text: these start real runs, so hostile text reaches the services.
  { weight: 3, arbitrary: fc.record({ id: clientId, text: nastyString }).map((f) => JSON.stringify({ type: 'chat.message', ...f })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ conversationId: nastyString, limit: hostileValue, before: hostileValue }, { requiredKeys: ['conversationId'] })
      .map((f) => JSON.stringify({ type: 'history.get', ...f })),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...FRAME_TYPES), fc.dictionary(fc.constantFrom(...FRAME_FIELDS), hostileValue, { maxKeys: 4 }))
      .map(([type, fields]) => JSON.stringify({ ...fields, type })),
  },
  { weight: 2, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: nastyString },
);

describe('fuzzing the edge', () => {
  test('WS frames: every hostile frame is answered without internal detail and the socket keeps serving', async () => {
    const s = rawSocket(`${platform.gw.ws}?token=${token({ sub: 'fuzz-ws', tenant: 'fz-ws' })}`);
    await s.opened;
    await waitFor(() => s.frames.some((f) => f.type === 'history'), { what: 'history on connect' });
    let t = 0;
    const sentAll: string[] = [];
    await fc.assert(
      fc.asyncProperty(frame, async (data) => {
        sentAll.push(data);
        const before = s.frames.length;
        s.ws.send(data);
        // Frames are handled in order: once the pong after it is in, so is every direct answer to it.
        const mark = ++t;
        s.ws.send(JSON.stringify({ type: 'ping', t: mark }));
        // A rate limit on pings (every frame type may have one) answers the mark with rate_limited instead.
        await waitFor(
          () =>
            s.frames.slice(before).some((f) => (f.type === 'pong' && f.t === mark) || (f.type === 'error' && f.code === 'rate_limited' && f.ref === 'ping')),
          { timeoutMs: 10_000, what: `pong ${mark}` },
        );
        expect(s.ws.readyState).toBe(1);
        for (const f of s.frames.slice(before)) {
          if (f.type !== 'error' && f.type !== 'agent.error') continue;
          expect(f.code).not.toBe('internal');
          expect(internalDetail(JSON.stringify(f), data)).toEqual([]);
        }
      }),
      { numRuns: 150, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
    );
    // Runs the fuzzing started end on their own time; their answers obey the same rules.
    await deadLettersWhenSettled(platform.prefix);
    const sent = sentAll.join('\n');
    for (const f of s.frames.filter((x) => x.type === 'error' || x.type === 'agent.error')) {
      expect(f.code).not.toBe('internal');
      expect(internalDetail(JSON.stringify(f), sent)).toEqual([]);
    }
    // The fuzzing reached the services: runs were accepted and answered.
    expect(s.frames.filter((f) => f.type === 'chat.accepted').length).toBeGreaterThan(0);
    await waitFor(() => s.frames.some((f) => f.type === 'agent.message'), { what: 'a fuzzed run answered' });
    s.ws.close();
    expect(await deadLettersWhenSettled(platform.prefix)).toEqual([]);
  }, 60_000);

  const user = token({ sub: 'fuzz-rest', tenant: 'fz-rest' });
  const admin = token({ sub: 'fuzz-admin', tenant: 'fz-rest', roles: ['admin'] });
  const pathPart = nastyString.filter((x) => x.length > 0 && x.length < 300).map(pct);

  /** One REST request: route, headers and a body that is hostile JSON, not JSON, or too big. */
  const request = fc.oneof(
    // Well-formed starts with hostile content types beside them: the fuzzing must reach the services, not only the parsers.
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/runs'),
      auth: fc.constant(user),
      body: fc.record({
        flow: fc.constantFrom('chat', 'poem'),
        input: fc.record({ text: fc.string({ minLength: 1, maxLength: 200 }), topic: fc.string({ minLength: 1, maxLength: 200 }) }),
      }),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/runs'),
      auth: fc.constant(user),
      body: fc.record({
        flow: fc.constantFrom('chat', 'poem', 'research', 'summarize_conversation'),
        input: fc.record({ text: nastyString, topic: nastyString, messageId: nastyString }, { requiredKeys: [] }),
      }),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/knowledge/documents'),
      auth: fc.constant(admin),
      body: fc.record({ title: nastyString, text: nastyString, source: nastyString }),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/runs'),
      auth: fc.constant(user),
      body: fc.record(
        {
          flow: hostileValue,
          input: fc.oneof(hostileValue, fc.dictionary(nastyString, hostileValue, { maxKeys: 3 })),
          agentId: hostileValue,
          conversationId: hostileValue,
          webhook: hostileValue,
        },
        { requiredKeys: [] },
      ),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/knowledge/documents'),
      auth: fc.constant(admin),
      body: fc.record(
        { title: hostileValue, text: hostileValue, markdown: hostileValue, source: hostileValue, metadata: hostileValue, language: hostileValue },
        { requiredKeys: [] },
      ),
    }),
    fc.record({
      method: fc.constant('PUT'),
      path: fc.constant('/api/v1/agents/fuzzed-agent'),
      auth: fc.constant(admin),
      body: fc.dictionary(fc.constantFrom('name', 'systemPrompt', 'model', 'temperature', 'tools', 'flow', 'doubleTexting', 'maxRunMs'), hostileValue, {
        maxKeys: 3,
      }),
    }),
    fc.record({
      method: fc.constantFrom('POST', 'PUT'),
      path: fc.constantFrom('/api/v1/runs', '/api/v1/knowledge/documents'),
      auth: fc.constant(admin),
      body: hostileValue,
    }),
    fc.record({
      method: fc.constant('GET'),
      path: fc.tuple(nastyString, hostileValue).map(([q, k]) => `/api/v1/knowledge/search?q=${pct(q)}&topK=${pct(JSON.stringify(k) ?? '')}`),
      auth: fc.constant(user),
      body: fc.constant(undefined),
    }),
    fc.record({
      method: fc.constant('GET'),
      path: fc.tuple(fc.constantFrom('/api/v1/runs/', '/api/v1/conversations/', '/api/v1/knowledge/documents?cursor='), pathPart).map(([a, b]) => a + b),
      auth: fc.constant(admin),
      body: fc.constant(undefined),
    }),
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/api/v1/runs'),
      auth: fc.constant(user),
      body: fc.constantFrom<unknown>(
        RAW('{"input":'),
        RAW('x'.repeat(2 * 1024 * 1024)),
        RAW(`{"input":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`),
        RAW(`${'['.repeat(200_000)}${']'.repeat(200_000)}`),
      ),
    }),
  );

  test('REST bodies: no 5xx, every refusal an ErrorBody without internal detail', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(request, fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1'), async (r, type) => {
        const raw = r.body === undefined ? undefined : r.body instanceof Raw ? r.body.text : JSON.stringify(r.body);
        const headers: Record<string, string> = { authorization: `Bearer ${r.auth}` };
        if (raw !== undefined) headers['content-type'] = type;
        const res = await fetch(`${platform.gw.http}${r.path}`, { method: r.method, headers, ...(raw === undefined ? {} : { body: raw }) });
        const text = await res.text();
        if (res.status === 202) accepted++;
        // Echoed ids arrive decoded: the request counts as sent in both spellings.
        const sent = `${r.path}\n${decoded(r.path)}\n${raw ?? ''}`;
        expect(res.status, `${r.method} ${r.path} → ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(internalDetail(text, sent)).toEqual([]);
        if (res.status >= 400) {
          const body = JSON.parse(text) as Record<string, unknown>;
          expect(body).toMatchObject({
            error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean), requestId: expect.any(String) },
          });
        }
      }),
      { numRuns: 200, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(await deadLettersWhenSettled(platform.prefix)).toEqual([]);
  }, 60_000);
});
