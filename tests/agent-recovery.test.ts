// agent.run when PostgreSQL fails around the end of a run, or the worker dies after saving the answer:
// a run whose answer the conversation holds ends SUCCEEDED with that answer (never worker_lost), a
// short outage neither fails nor dead-letters a run, a service shutting down stops waiting one out,
// and a run that lost its conversation's lock mid-run saves nothing more. agent-execution and
// conversation in-process on the real bus, Redis, a test database and the dev model server; faults
// are injected at the pg pool.
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type pg from 'pg';
import { createBus } from '@parley/bus';
import { catalog, conversationLockKey, runAnswerMessageId, type AgentRun, type RunEvent } from '@parley/contracts';
import { pgTest as test, redisUrl, type TestDatabase } from '@parley/testing';
import { startHarness, tokensOf } from '../apps/agent-execution/src/testing/harness.js';
import { createConversationDeps } from '../apps/conversation/src/wiring.js';
import { conversationHandlers } from '../apps/conversation/src/handlers/index.js';

type Fault = (sql: string, params: readonly unknown[]) => Error | null;

/** The test database's pool, failing the queries `fault` picks (before they reach PostgreSQL); counts what it failed. */
function faultyDb(db: TestDatabase, fault: Fault): { db: TestDatabase; failed: string[] } {
  const failed: string[] = [];
  const query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string; values?: unknown[] };
    const sql = typeof first === 'string' ? first : (first.text ?? '');
    const params = (Array.isArray(args[1]) ? args[1] : typeof first === 'object' ? first.values : undefined) ?? [];
    const err = fault(sql, params);
    if (err) {
      failed.push(sql);
      return Promise.reject(err);
    }
    return (db.pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
  };
  const pool = new Proxy(db.pool, { get: (target, key, receiver) => (key === 'query' ? query : Reflect.get(target, key, receiver)) as unknown }) as pg.Pool;
  return { db: { ...db, pool }, failed };
}

const isFinalWrite = (sql: string, params: readonly unknown[]) => /^update "agent_runs"/i.test(sql) && params.includes('SUCCEEDED');
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

async function startConversation(
  prefix: string,
  redis: Parameters<typeof createConversationDeps>[0],
  db: TestDatabase,
  onTestFinished: (fn: () => Promise<void>) => void,
) {
  const config = { hot: { idleMs: 60_000, ttlMs: 86_400_000 }, db: { poolMax: 5 } };
  const worker = createBus({ catalog, redis: redisUrl, prefix, service: 'conversation', instance: `conv-${prefix}` });
  worker.handle('conversation', conversationHandlers(createConversationDeps(redis, db.pool, prefix, config)), { concurrency: 16 });
  onTestFinished(() => worker.close(500));
}

const tenant = () => `t-${randomUUID().slice(0, 8)}`;
const chatRun = (conversationId: string, text: string): AgentRun => ({
  runId: randomUUID(),
  conversationId,
  input: { text, messageId: randomUUID() },
  channel: 'web',
});

function expectWholeStream(events: RunEvent[], text: string | undefined) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events.filter((e) => e.type === 'run.completed' || e.type === 'run.failed').map((e) => e.type)).toEqual(['run.completed']);
  expect(tokensOf(events)).toBe(text);
}

describe('agent.run: the answer saved, the end of the run in trouble', () => {
  test('the handler crashes on the final status write after the answer was saved: the retry records SUCCEEDED with that answer, one assistant message', async ({
    prefix,
    db,
    redis,
    onTestFinished,
  }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    let failNext = true;
    // Not a connection error, so it is not retried in place: the handler crashes and the bus redelivers.
    const faulty = faultyDb(db, (sql, params) =>
      isFinalWrite(sql, params) && failNext ? ((failNext = false), new Error('injected: the final status write failed')) : null,
    );
    const h = await startHarness({ prefix, db: faulty.db, tenantId });
    const conversationId = randomUUID();
    const data = chatRun(conversationId, 'hello there [[tokens:8]]');

    const { result, events } = await h.run(data);

    expect(faulty.failed).toHaveLength(1);
    expect(result).toMatchObject({ runId: data.runId, status: 'SUCCEEDED', messageId: runAnswerMessageId(data.runId) });
    expect(result.error).toBeUndefined();
    expectWholeStream(events, result.text);
    const record = await h.caller.call('agent.get_run', { runId: data.runId }, { tenantId });
    expect(record).toMatchObject({ status: 'SUCCEEDED', error: null, output: { text: result.text } });
    expect(record.usage?.completionTokens).toBeGreaterThan(0);
    const history = await h.caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
    expect(history.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hello there [[tokens:8]]'],
      ['assistant', result.text],
    ]);
    expect(h.model.control.stats().byStatus[200]).toBe(1); // the retry called no model
  });

  test('PostgreSQL unreachable for the final status write: the write is retried and the run ends SUCCEEDED', async ({ prefix, db, redis, onTestFinished }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    let outage = 3;
    const faulty = faultyDb(db, (sql, params) => (isFinalWrite(sql, params) && outage > 0 ? (outage--, unreachable()) : null));
    const h = await startHarness({ prefix, db: faulty.db, tenantId });
    const conversationId = randomUUID();
    const data = chatRun(conversationId, 'hi [[tokens:5]]');

    const { result, events } = await h.run(data);

    expect(faulty.failed).toHaveLength(3);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expectWholeStream(events, result.text);
    expect(await h.caller.call('agent.get_run', { runId: data.runId }, { tenantId })).toMatchObject({ status: 'SUCCEEDED' });
    const history = await h.caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
    expect(history.messages.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual([result.text]);
  });

  test('PostgreSQL unreachable when the run arrives (more failures than agent.run has deliveries): it waits, runs once, never dead-lettered', async ({
    prefix,
    db,
    redis,
    onTestFinished,
  }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    let outage = 4; // agent.run has maxDeliveries 3: a crash on each would dead-letter it
    const faulty = faultyDb(db, (sql) => (/^insert into "agent_runs"/i.test(sql) && outage > 0 ? (outage--, unreachable()) : null));
    const h = await startHarness({ prefix, db: faulty.db, tenantId });
    const data = chatRun(randomUUID(), 'are you there [[tokens:4]]');

    const { result, events } = await h.run(data);

    expect(faulty.failed).toHaveLength(4);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expectWholeStream(events, result.text);
    expect(await h.caller.call('agent.get_run', { runId: data.runId }, { tenantId })).toMatchObject({ status: 'SUCCEEDED' });
  });

  test('PostgreSQL down when the service shuts down: the run stops retrying its record write at the close, not after RUN_DB_RETRY_MS', async ({
    prefix,
    db,
    redis,
    onTestFinished,
  }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    let outageSeen!: () => void;
    const seen = new Promise<void>((resolve) => (outageSeen = resolve));
    const faulty = faultyDb(db, (sql) => (/^insert into "agent_runs"/i.test(sql) ? (outageSeen(), unreachable()) : null));
    const h = await startHarness({ prefix, db: faulty.db, tenantId, vars: { RUN_DB_RETRY_MS: '600000' } });
    const data = chatRun(randomUUID(), 'anyone there?');
    const settled = h.run(data).then(
      (r) => ({ replied: r.result }),
      (err: unknown) => ({ failed: err }),
    );
    await seen; // the run is waiting out the outage

    await h.closeServices();

    // The delivery gave up at the close (its retries would have gone on for ten minutes); the bus's
    // redeliveries tried once each, and the caller got the dead letter's error reply.
    const outcome = await settled;
    expect(outcome).toMatchObject({ failed: { code: 'max_deliveries' } });
    // At most one insert per delivery, none retried after the close. A redelivery may stop before its insert:
    // the closed service's Redis connection fails the conversation lock that comes first.
    expect(faulty.failed.length).toBeGreaterThanOrEqual(1);
    expect(faulty.failed.length).toBeLessThanOrEqual(3);
  });

  test('a run found RUNNING whose dead worker had saved the answer is completed SUCCEEDED from the history, not failed worker_lost', async ({
    prefix,
    db,
    redis,
    onTestFinished,
  }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    const h = await startHarness({ prefix, db, tenantId });
    const conversationId = randomUUID();
    const data = chatRun(conversationId, 'what did you say?');
    // What a worker killed with SIGKILL right after conversation.save_message leaves: the record
    // RUNNING, both messages saved, and (Redis restarted without it) no answer record of its own.
    await db.pool.query(
      `insert into agent_runs (run_id, tenant_id, agent_id, flow, conversation_id, channel, status, input, started_at) values ($1, $2, 'default', 'chat', $3, 'web', 'RUNNING', $4, now())`,
      [data.runId, tenantId, conversationId, JSON.stringify(data.input)],
    );
    const meta = { tenantId, conversationId };
    await h.caller.call(
      'conversation.save_message',
      { messageId: randomUUID(), conversationId, runId: data.runId, role: 'user', content: 'what did you say?' },
      meta,
    );
    await h.caller.call(
      'conversation.save_message',
      { messageId: runAnswerMessageId(data.runId), conversationId, runId: data.runId, role: 'assistant', content: 'I said hello.' },
      meta,
    );

    const { result, events } = await h.run(data);

    expect(result).toMatchObject({ status: 'SUCCEEDED', text: 'I said hello.', messageId: runAnswerMessageId(data.runId) });
    expect(events.map((e) => e.type)).toEqual(['run.completed']);
    expect(await h.caller.call('agent.get_run', { runId: data.runId }, { tenantId })).toMatchObject({ status: 'SUCCEEDED', error: null });
    const history = await h.caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
    expect(history.messages.filter((m) => m.role === 'assistant').map((m) => m.content)).toEqual(['I said hello.']);
    expect(h.model.control.stats().byStatus[200]).toBeUndefined();
  });

  test('a run found RUNNING whose answer was never saved still fails worker_lost (nothing is replayed)', async ({ prefix, db, redis, onTestFinished }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    const h = await startHarness({ prefix, db, tenantId });
    const conversationId = randomUUID();
    const data = chatRun(conversationId, 'half an answer');
    await db.pool.query(
      `insert into agent_runs (run_id, tenant_id, agent_id, flow, conversation_id, channel, status, input, started_at) values ($1, $2, 'default', 'chat', $3, 'web', 'RUNNING', $4, now())`,
      [data.runId, tenantId, conversationId, JSON.stringify(data.input)],
    );

    const { result } = await h.run(data);

    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'worker_lost' } });
    // The transcript says why no answer follows the user's message.
    const history = await h.caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
    expect(history.messages.map((m) => [m.role, m.status?.code])).toEqual([
      ['user', undefined],
      ['status', 'worker_lost'],
    ]);
  });
});

describe('agent.run: a run that lost its conversation', () => {
  test('the lock taken over mid-stream (a stalled worker past its lease): the answer is refused at the store, the run fails conflict, the new holder keeps the lock', async ({
    prefix,
    db,
    redis,
    onTestFinished,
  }) => {
    const tenantId = tenant();
    await startConversation(prefix, redis, db, onTestFinished);
    const h = await startHarness({ prefix, db, tenantId });
    const conversationId = randomUUID();
    const lock = conversationLockKey(prefix, conversationId);
    const data = chatRun(conversationId, 'tell me slowly [[tokens:30]] [[slow:10]]');
    let stolen = false;
    const run = h.start(data, {}, (e) => {
      // What another worker's run leaves once this one's lease ran out: the lock names someone else.
      if (e.type === 'run.token' && !stolen) {
        stolen = true;
        void redis.set(lock, 'another-run|999999');
      }
    });

    const { result, events } = await run.done;

    expect(stolen).toBe(true);
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'conflict' } });
    expect(result.error?.message).toContain('another run holds its lock');
    expect(events.at(-1)).toMatchObject({ type: 'run.failed', code: 'conflict' });
    expect(await h.caller.call('agent.get_run', { runId: data.runId }, { tenantId })).toMatchObject({ status: 'FAILED', error: { code: 'conflict' } });
    // The user's message was saved while the run held the lock; its answer never was.
    const history = await h.caller.call('conversation.get_history', { conversationId, limit: 50 }, { tenantId });
    expect(history.messages.map((m) => m.role)).toEqual(['user']);
    // Releasing its lock at the end did not release the new holder's.
    expect(await redis.get(lock)).toBe('another-run|999999');
  });
});
