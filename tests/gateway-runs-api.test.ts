/**
 * Runs that behave (issue 21): POST /runs refuses a bad flow or input before answering, honours
 * Idempotency-Key, POST /runs/wait answers the finished run or the run so far at its timeout, and
 * SSE reaches a plain `onmessage` client as well as named listeners.
 */
import { describe, expect, test } from 'vitest';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';

const platform = usePlatform('gwrunsapi', { gateway: {} });
const user = token({ sub: 'runner', tenant: 'ra' });
const other = token({ sub: 'someone-else', tenant: 'ra' });
const h = (t: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json', ...extra });
const post = (path: string, body: unknown, t = user, extra: Record<string, string> = {}) =>
  fetch(`${platform.gw.http}${path}`, { method: 'POST', headers: h(t, extra), body: JSON.stringify(body) });
type Err = { error: { code: string; message: string; details?: { fields?: string[]; header?: string }; requestId: string } };

describe('POST /api/v1/runs validates before answering', () => {
  test('an unknown flow, or input its flow refuses, is a 400 naming the field; no run is started', async () => {
    const flow = await post('/api/v1/runs', { flow: 'nope', input: { text: 'x' } });
    expect(flow.status).toBe(400);
    expect(((await flow.json()) as Err).error).toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('flow "nope"'),
      details: { fields: ['flow'] },
    });
    const input = await post('/api/v1/runs', { flow: 'poem', input: { topic: 42 } });
    expect(input.status).toBe(400);
    expect(((await input.json()) as Err).error).toMatchObject({ code: 'invalid_payload', details: { fields: ['input.topic'] } });
    const unknownAgent = await post('/api/v1/runs', { agentId: 'ghost', input: { text: 'x' } });
    expect(unknownAgent.status).toBe(404);
  });
});

describe('Idempotency-Key', () => {
  test('the same key and body answer the same run; another body with that key is a 422; keys are per caller', async () => {
    const key = { 'idempotency-key': `k-${Date.now()}` };
    const body = { flow: 'poem', input: { topic: 'sea' } };
    const first = await post('/api/v1/runs', body, user, key);
    expect(first.status).toBe(202);
    const { runId } = (await first.json()) as { runId: string };
    // The same body with its keys in another order is the same request.
    const again = await post('/api/v1/runs', { input: { topic: 'sea' }, flow: 'poem' }, user, key);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { runId: string }).runId).toBe(runId);
    const changed = await post('/api/v1/runs', { flow: 'poem', input: { topic: 'moon' } }, user, key);
    expect(changed.status).toBe(422);
    expect(((await changed.json()) as Err).error).toMatchObject({ code: 'idempotency_key_reused', details: { header: 'Idempotency-Key' } });
    // Another user's same key is theirs: a new run.
    const theirs = await post('/api/v1/runs', body, other, key);
    expect(theirs.status).toBe(202);
    expect(((await theirs.json()) as { runId: string }).runId).not.toBe(runId);
  });

  test('a key that is not a sane token is a 400 naming the header', async () => {
    const res = await post('/api/v1/runs', { flow: 'poem', input: { topic: 'sea' } }, user, { 'idempotency-key': 'x'.repeat(300) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Err).error.details).toEqual({ header: 'Idempotency-Key' });
  });
});

describe('POST /api/v1/runs/wait', () => {
  test('answers 200 with the finished run', async () => {
    const res = await post('/api/v1/runs/wait', { flow: 'poem', input: { topic: 'sea' }, timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'SUCCEEDED', flow: 'poem', output: expect.anything() });
  });

  test('at its timeout, 202 with Location and the run as it stands', async () => {
    const res = await post('/api/v1/runs/wait?timeoutMs=50', { input: { text: 'slow [[slow:3000]] [[tokens:3]]' } });
    expect(res.status).toBe(202);
    const run = (await res.json()) as { runId: string; status: string };
    expect(['PENDING', 'RUNNING']).toContain(run.status);
    expect(res.headers.get('location')).toBe(`/api/v1/runs/${run.runId}`);
  });

  test('a timeout out of bounds is a 400', async () => {
    expect((await post('/api/v1/runs/wait?timeoutMs=999999999', { flow: 'poem', input: { topic: 'sea' } })).status).toBe(400);
  });
});

describe('SSE', () => {
  test('every event also comes unnamed, for EventSource.onmessage, with its type in the data', async () => {
    const res = await post('/api/v1/runs/wait', { flow: 'poem', input: { topic: 'sea' }, timeoutMs: 30_000 });
    const { runId } = (await res.json()) as { runId: string };
    const text = await (await fetch(`${platform.gw.http}/api/v1/runs/${runId}/events`, { headers: h(user) })).text();
    const blocks = text.split('\n\n').filter((b) => b.includes('data:'));
    const unnamed = blocks.filter((b) => !b.includes('event: '));
    const named = blocks.filter((b) => b.includes('event: '));
    expect(unnamed.length).toBe(named.length);
    const types = unnamed.map((b) => (JSON.parse(b.slice(b.indexOf('data: ') + 6)) as { type: string }).type);
    expect(types[0]).toBe('PENDING');
    expect(types.at(-1)).toBe('SUCCESS');
  });
});
