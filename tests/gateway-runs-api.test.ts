/**
 * Runs that behave (issue 21): POST /runs refuses a bad flow or input before answering, honours
 * Idempotency-Key, POST /runs/wait answers the finished run or the run so far at its timeout, and
 * SSE reaches a plain `onmessage` client as well as named listeners, and a run older than its event log
 * (the log's key deleted, as its TTL would) still streams its steps and final state from its record and ends.
 */
import { describe, expect, test } from 'vitest';
import { runEventLogKey } from '@parley/contracts';
import { newRedis } from '@parley/testing';
import { token } from './support/gateway-env.js';
import { usePlatform } from './support/platform.js';
import { wsProbe } from './support/ws-probe.js';

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

type SseEvent = { id: number | null; type: string; status: string; step_results: Array<{ seq: number; name: string }>; final_result: unknown };
/** The unnamed copy of each event (the named copy carries the same id and data). Ends when the server ends the stream. */
async function sse(runId: string, extra: Record<string, string> = {}): Promise<SseEvent[]> {
  const res = await fetch(`${platform.gw.http}/api/v1/runs/${runId}/events`, { headers: h(user, extra), signal: AbortSignal.timeout(15_000) });
  expect(res.status).toBe(200);
  const blocks = (await res.text()).split('\n\n').filter((b) => b.includes('data:') && !b.includes('event: '));
  return blocks.map((b) => {
    const id = /^id: (\d+)$/m.exec(b)?.[1];
    return { id: id === undefined ? null : Number(id), ...(JSON.parse(b.slice(b.indexOf('data: ') + 6)) as Omit<SseEvent, 'id'>) };
  });
}

describe('a run older than its event log', () => {
  const expire = async (runId: string) => {
    const redis = newRedis();
    try {
      expect(await redis.del(runEventLogKey(platform.prefix, runId))).toBe(1);
    } finally {
      redis.disconnect();
    }
  };

  test('SSE replays its stored steps with their seq, then its final state, and ends; Last-Event-ID still applies; GET has the steps', async () => {
    const res = await post('/api/v1/runs/wait', { flow: 'poem', input: { topic: 'sea' }, timeoutMs: 30_000 });
    const { runId } = (await res.json()) as { runId: string };
    const live = await sse(runId);
    await expire(runId);

    const stored = await sse(runId);
    const liveEnd = live.at(-1)!;
    const storedEnd = stored.at(-1)!;
    // Everything but the event's time (the record's finishedAt, a few ms before the event was logged).
    expect(endState(storedEnd)).toEqual(endState(liveEnd));
    expect(storedEnd).toMatchObject({ type: 'SUCCESS', status: 'SUCCEEDED' });
    const stepIds = (events: SseEvent[]) => events.filter((e) => e.type === 'PROGRESS' && e.step_results.some((s) => s.seq === e.id)).map((e) => e.id);
    expect(stepIds(stored)).toEqual(stepIds(live));
    expect(stepIds(stored).length).toBeGreaterThan(1);
    expect(stored[0]?.type).toBe('PENDING');

    const lastStep = stepIds(stored).at(-1)!;
    const after = await sse(runId, { 'last-event-id': String(lastStep) });
    expect(after.map((e) => [e.id, e.type])).toEqual([[liveEnd.id, 'SUCCESS']]);
    expect(await sse(runId, { 'last-event-id': String(liveEnd.id) })).toEqual([]);

    const record = (await (await fetch(`${platform.gw.http}/api/v1/runs/${runId}`, { headers: h(user) })).json()) as {
      steps: Array<{ seq: number }>;
      text: string;
      endSeq: number;
    };
    expect(record.steps.map((s) => s.seq)).toEqual(stepIds(live));
    expect(record.endSeq).toBe(liveEnd.id);
    expect(record.text).toBe((liveEnd.final_result as { text: string }).text);
  });

  test('a cancelled run streams FAILURE with CANCELLED from its record', async () => {
    const started = await post('/api/v1/runs', { input: { text: 'slow [[slow:5000]] [[tokens:3]]' } });
    const { runId } = (await started.json()) as { runId: string };
    // Cancel once it is running, then wait for its end on the live log.
    const cancel = async () => (await post(`/api/v1/runs/${runId}/cancel`, {})).status;
    expect(await cancel()).toBe(200);
    const live = await sse(runId);
    expect(live.at(-1)).toMatchObject({ type: 'FAILURE', status: 'CANCELLED' });
    await expire(runId);
    const stored = await sse(runId);
    expect(endState(stored.at(-1)!)).toEqual(endState(live.at(-1)!));
  });

  test('WS resume of it replays the steps and the answer from the record', async () => {
    const res = await post('/api/v1/runs/wait', { flow: 'poem', input: { topic: 'moon' }, timeoutMs: 30_000 });
    const run = (await res.json()) as { runId: string; output: { text?: string } };
    const live = await sse(runId(run));
    await expire(run.runId);
    const p = wsProbe(`${platform.gw.ws}?token=${user}`);
    try {
      await p.welcome;
      const from = p.frames.length;
      p.send({ type: 'resume', runId: run.runId, lastSeq: 0 });
      const answer = await p.next((f) => f.runId === run.runId && f.type === 'agent.message', { from, what: 'the stored answer' });
      expect(answer).toMatchObject({ seq: live.at(-1)!.id, text: (live.at(-1)!.final_result as { text: string }).text });
      const steps = p.frames.slice(from).filter((f) => f.type === 'agent.step' && f.runId === run.runId);
      expect(steps.map((f) => f.seq)).toEqual(live.filter((e) => e.type === 'PROGRESS' && e.step_results.some((s) => s.seq === e.id)).map((e) => e.id));
    } finally {
      p.close();
    }
  });
});

const runId = (r: { runId: string }) => r.runId;
const endState = (e: SseEvent) => {
  const { event, ...rest } = e as SseEvent & { event: { at: number } };
  return { ...rest, event: { ...event, at: typeof event.at } };
};
