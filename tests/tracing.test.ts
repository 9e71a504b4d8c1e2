/**
 * One chat turn is one trace across the services: the gateway (in this process), agent-execution and
 * conversation (child processes) export over OTLP/HTTP, as in production, to a receiver this test runs
 * on loopback; the spans are read back and their links checked.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createTestDatabase,
  deletePrefix,
  dropTestDatabase,
  newRedis,
  redisUrl,
  spawnTs,
  uniquePrefix,
  urlForDatabase,
  waitFor,
  type TsProcess,
} from '@parley/testing';
import { ParleyClient, type RunFrame } from '../packages/client/src/index.js';
import { startDevModelServer, type DevModelServer } from '../packages/llm/src/dev-server/index.js';
import { installTracing, type Tracing } from '../packages/service-kit/src/index.js';
import { startGateway, token, type RunningGateway } from './support/gateway-env.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const KIND = { server: 2, client: 3 } as const;

let receiver: OtlpReceiver;
let tracing: Tracing;
let model: DevModelServer;
let procs: TsProcess[] = [];
let gw: RunningGateway;
let prefix = '';
let db = '';

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  prefix = uniquePrefix('trace');
  db = await createTestDatabase();
  model = await startDevModelServer({ tokenDelayMs: 0 });
  const env = {
    REDIS_URL: redisUrl,
    DATABASE_URL: urlForDatabase(db),
    BUS_PREFIX: prefix,
    MODEL_BASE_URL: model.url,
    MODEL_NAME: 'parley-dev',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    PARLEY_MODE: 'dev',
    SHUTDOWN_GRACE_MS: '2000',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    // The batch processor's own variable: export within 50 ms instead of 5 s, so the test waits less.
    OTEL_BSP_SCHEDULE_DELAY: '50',
  };
  procs = [
    spawnTs(`${root}apps/conversation/src/main.ts`, { ...env, INSTANCE_ID: `conv-${prefix}` }),
    spawnTs(`${root}apps/agent-execution/src/main.ts`, { ...env, INSTANCE_ID: `agent-${prefix}` }),
  ];
  // The gateway runs in this process: tracing is installed first, as runService does in its own process.
  tracing = installTracing({ service: 'gateway', instance: 'gw-test', tracesUrl: `${receiver.endpoint}/v1/traces` });
  await Promise.all(procs.map((p) => p.waitForOutput('"msg":"ready"', 30_000)));
  gw = await startGateway(prefix, { DATABASE_URL: urlForDatabase(db) });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await tracing?.shutdown();
  await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  await model?.close();
  await receiver?.close();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  if (db) await dropTestDatabase(db);
});

async function turn(text: string): Promise<RunFrame[]> {
  const c = new ParleyClient({ url: gw.ws, token: () => token({ sub: 'alice' }) });
  await c.connect();
  const frames: RunFrame[] = [];
  for await (const f of await c.chat(text)) frames.push(f);
  c.close();
  return frames;
}

/** The trace of a run (its bus spans carry the run id as the correlation id), once the spans in `expected` have all arrived. */
async function traceOfRun(runId: string, expected: Array<(s: ReceivedSpan) => boolean>): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = [];
  await waitFor(
    async () => {
      await tracing.flush();
      const traceId = receiver.spans().find((s) => s.attributes['messaging.message.conversation_id'] === runId)?.traceId;
      spans = receiver.spans().filter((s) => s.traceId === traceId);
      return expected.every((match) => spans.some(match));
    },
    { what: 'the turn’s spans from every service', timeoutMs: 15_000 },
  );
  return spans;
}

const runIdOf = (frames: RunFrame[]): string => {
  const first = frames[0];
  if (!first || !('runId' in first)) throw new Error('the turn has no run');
  return first.runId;
};

const named = (name: string, service?: string) => (s: ReceivedSpan) => s.name === name && (service === undefined || s.service === service);
const one = (spans: ReceivedSpan[], match: (s: ReceivedSpan) => boolean) => {
  const found = spans.filter(match);
  expect(found, 'one span matching').toHaveLength(1);
  return found[0]!;
};

describe('tracing across the services', () => {
  test('a chat turn with a tool call is one connected trace: gateway → agent-execution → conversation → model', async () => {
    const frames = await turn('what time is it? [[tool:current_time]]');
    expect(frames.at(-1)?.type).toBe('agent.message');

    const runId = runIdOf(frames);
    const spans = await traceOfRun(runId, [
      named('ws chat.message', 'gateway'),
      named('agent.run send', 'gateway'),
      named('agent.run handle', 'agent-execution'),
      named('conversation.begin_turn handle', 'conversation'),
      named('conversation.save_message handle', 'conversation'),
      (s) => s.service === 'agent-execution' && s.attributes['gen_ai.operation.name'] === 'chat' && s.attributes['gen_ai.usage.output_tokens'] !== undefined,
      named('execute_tool current_time', 'agent-execution'),
    ]);

    // Connected: one root (the WS turn), every other span's parent is in the same trace.
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => s.parentSpanId === undefined);
    expect(roots.map((s) => s.name)).toEqual(['ws chat.message']);
    expect(spans.filter((s) => s.parentSpanId !== undefined && !ids.has(s.parentSpanId)).map((s) => s.name)).toEqual([]);

    // Hop by hop: the gateway's call is the parent of agent-execution's handle, whose call is the parent of conversation's.
    const wsTurn = one(spans, named('ws chat.message'));
    const runCall = one(spans, named('agent.run send'));
    const runHandle = one(spans, named('agent.run handle'));
    expect(wsTurn.kind).toBe(KIND.server);
    expect(runCall).toMatchObject({ kind: KIND.client, parentSpanId: wsTurn.spanId });
    expect(runHandle).toMatchObject({ kind: KIND.server, parentSpanId: runCall.spanId });
    expect(runHandle.attributes).toMatchObject({ 'messaging.system': 'redis', 'parley.action.type': 'agent.run', 'parley.outcome': 'ok' });
    const beginCall = one(spans, named('conversation.begin_turn send', 'agent-execution'));
    expect(one(spans, named('conversation.begin_turn handle')).parentSpanId).toBe(beginCall.spanId);

    // The model calls (one asks for the tool, one answers with its result), with the GenAI attributes and token counts.
    const modelCalls = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(modelCalls.length).toBeGreaterThanOrEqual(2);
    for (const call of modelCalls) {
      expect(call).toMatchObject({ name: 'chat parley-dev', kind: KIND.client });
      expect(call.attributes).toMatchObject({ 'gen_ai.system': 'openai', 'gen_ai.request.model': 'parley-dev' });
      expect(call.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(call.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    const tool = one(spans, named('execute_tool current_time'));
    expect(tool.attributes).toMatchObject({ 'gen_ai.tool.name': 'current_time', 'parley.tool.ok': true });

    // Store round trips of the run path: the run record in PostgreSQL, the hot conversation in Redis.
    expect(spans.some((s) => s.attributes['db.system.name'] === 'postgresql' && s.name.startsWith('agent_runs.'))).toBe(true);
    expect(spans.some((s) => s.attributes['db.system.name'] === 'redis' && s.name.startsWith('hot_conversations.'))).toBe(true);
    expect(spans.some((s) => s.name.startsWith('conversation_lock.'))).toBe(true);

    // Every span of this run, from every service, is in this one trace.
    const elsewhere = receiver.spans().filter((s) => s.traceId !== wsTurn.traceId && s.attributes['messaging.message.conversation_id'] === runId);
    expect(elsewhere.map((s) => s.name)).toEqual([]);
  }, 30_000);

  test('a REST request is the root of its trace, and the bus calls its route makes are its children', async () => {
    const res = await fetch(`${gw.http}/api/v1/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token({ sub: 'alice' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { text: 'hello over REST' } }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    // The send span can be exported after the request's: waited for too, not assumed in the same batch.
    const spans = await traceOfRun(runId, [
      named('POST /api/v1/runs', 'gateway'),
      named('agent.run send', 'gateway'),
      named('agent.run handle', 'agent-execution'),
    ]);
    const request = one(spans, named('POST /api/v1/runs'));
    expect(request).toMatchObject({ kind: KIND.server, parentSpanId: undefined });
    expect(request.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/api/v1/runs', 'http.response.status_code': 202 });
    expect(one(spans, named('agent.run send')).parentSpanId).toBe(request.spanId);
  }, 30_000);

  test('the logs of a turn carry its trace id', async () => {
    // A model that refuses the request (400, not retried): agent-execution logs "run ended early".
    const frames = await turn('this one fails [[fail:400]]');
    expect(frames.at(-1)?.type).toBe('agent.error');
    const spans = await traceOfRun(runIdOf(frames), [named('ws chat.message', 'gateway'), named('agent.run handle', 'agent-execution')]);
    const traceId = spans[0]!.traceId;
    const agent = procs[1]!;
    await waitFor(() => agent.output().includes('run ended early'), { what: 'the run’s log line' });
    const line = agent
      .output()
      .split('\n')
      .filter((l) => l.includes('run ended early'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .at(-1);
    expect(line?.traceId).toBe(traceId);
    // The failed model call is marked as an error in the same trace.
    const failed = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat' && s.status === 2);
    expect(failed?.attributes['error.type']).toBeDefined();
  }, 30_000);
});
