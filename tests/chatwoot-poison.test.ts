/**
 * A poison message never holds its conversation: text PostgreSQL cannot store (U+0000) is answered
 * politely without a run, and a message whose run crashes on every delivery ends with one apology to
 * the contact when the bus gives the run up, and the next message is answered.
 * The crash is a real one: PostgreSQL refuses the run's row (a trigger stands in for any storage
 * failure), agent-execution crashes, the bus retries and dead-letters it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { listDeadLetters } from '@parley/bus';
import { busKeys } from '@parley/contracts';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import type { Redis } from 'ioredis';
import { APOLOGY } from '../apps/gateway/src/handlers/chatwoot-send.js';
import { UNSTORABLE_ANSWER } from '../apps/gateway/src/channels/chatwoot/inbound.js';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { startGateway, startServices, type RunningGateway, type Services } from './support/gateway-env.js';

const SECRET = 'cw-webhook-secret-0123456789';
const API_TOKEN = 'cw-api-token-abcdef';
const TENANT = 't-poison';
const ATTEMPTS = 3;

let prefix: string;
let db: string;
let redis: Redis;
let services: Services;
let fake: FakeChatwoot;
let gw: RunningGateway;
let conv = 700;

beforeAll(async () => {
  prefix = uniquePrefix('cwpoison');
  db = await createTestDatabase();
  redis = newRedis();
  const client = new pg.Client({ connectionString: urlForDatabase(db) });
  await client.connect();
  await client.query(`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.input->>'text' LIKE '%poison pill%' THEN RAISE EXCEPTION 'simulated storage failure'; END IF;
      RETURN NEW;
    END $$`);
  await client.query(`CREATE TRIGGER refuse_poison BEFORE INSERT ON agent_runs FOR EACH ROW EXECUTE FUNCTION refuse_poison()`);
  await client.end();
  fake = await startFakeChatwoot(API_TOKEN);
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, {
    DATABASE_URL: urlForDatabase(db),
    CHATWOOT_BASE_URL: fake.url,
    CHATWOOT_API_TOKEN: API_TOKEN,
    CHATWOOT_WEBHOOK_SECRET: SECRET,
    CHATWOOT_TENANT_ID: TENANT,
    CHATWOOT_BACKOFF_MS: '20',
    // Long enough for a healthy run (a head restarted while its run still works ends as worker_lost).
    CHATWOOT_STALL_MS: '5000',
    CHATWOOT_MESSAGE_ATTEMPTS: String(ATTEMPTS),
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
  });
});

afterAll(async () => {
  await gw?.close();
  await services?.stop();
  await fake?.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
  await dropTestDatabase(db);
});

const post = (body: unknown) => deliver(gw.http, body, { secret: SECRET });
const history = async (c: number) =>
  (await gw.gw.ctx.bus.call('conversation.get_history', { conversationId: `cw:1:1:${c}`, limit: 20 }, { tenantId: TENANT })).messages;
const givenUp = async () => (await gw.gw.metrics.registry.getSingleMetric('parley_gateway_chatwoot_messages_given_up_total')?.get())?.values[0]?.value ?? 0;

describe('poison messages', () => {
  test('a message with U+0000 is answered politely without a run; the conversation goes on', async () => {
    const c = ++conv;
    expect(await post(bodies.incoming({ conversation: c }, 'hola\u0000 necesito ayuda'))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    await waitFor(() => fake.posted(c).length === 1 || null, { timeoutMs: 30_000, what: 'the polite answer' });
    expect(fake.posted(c)).toEqual([UNSTORABLE_ANSWER]);
    // Stored without crashing the conversation service: a placeholder for the contact's side, and the answer.
    const saved = await waitFor(
      async () => {
        const h = await history(c);
        return h.length === 2 ? h : null;
      },
      { timeoutMs: 15_000, what: 'the turn in the history' },
    );
    expect(saved.map((m) => [m.role, m.content])).toEqual([
      ['user', '[a message with characters that cannot be stored]'],
      ['assistant', UNSTORABLE_ANSWER],
    ]);
    // No run was started for it.
    const runs = (await redis.xrange(busKeys.stream(prefix, 'agent'), '-', '+')).filter(([, f]) => (f[1] ?? '').includes(`"cw:1:1:${c}"`));
    expect(runs).toEqual([]);
    expect(await post(bodies.incoming({ conversation: c }, 'tell me about your opening hours, please'))).toMatchObject({
      status: 200,
      json: { outcome: 'started' },
    });
    await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 30_000, what: 'the next answer' });
    expect(fake.posted(c)[1]).toContain('opening hours');
  });

  // A run whose every delivery crashes ends at its last delivery, and the run's end observers tell
  // the contact; a message that never ends at all (a stalled run) is given up after
  // CHATWOOT_MESSAGE_ATTEMPTS starts with GIVE_UP_NOTICE (tests/chatwoot-stall.test.ts).
  test('a message whose run crashes on every delivery gets one apology, and the next message is answered', { timeout: 120_000 }, async () => {
    const c = ++conv;
    const before = await givenUp();
    expect(await post(bodies.incoming({ conversation: c }, 'poison pill: tell me about pricing'))).toMatchObject({ status: 200, json: { outcome: 'started' } });
    expect(await post(bodies.incoming({ conversation: c }, 'and where is your shop?'))).toMatchObject({ status: 200, json: { outcome: 'queued' } });
    await waitFor(() => fake.posted(c).length === 2 || null, { timeoutMs: 90_000, what: 'the apology, then the next answer' });
    const [apology, next] = fake.posted(c);
    expect(apology).toBe(APOLOGY);
    expect(next).toContain('where is your shop');
    expect(await givenUp()).toBe(before);
    // The run was dead-lettered once, after its last delivery, and never started again: the message
    // is no longer in the conversation's queue, which is empty.
    const dead = await waitFor(
      async () => {
        const mine = (await listDeadLetters(redis, prefix, 'agent', 100)).filter(
          (d) => d.type === 'agent.run' && d.raw.includes('poison pill') && d.raw.includes(`"conversationId":${c}`),
        );
        return mine.length > 0 ? mine : null;
      },
      { timeoutMs: 15_000, what: 'the dead letter' },
    );
    expect(dead).toHaveLength(1);
    // The next message's entry leaves the queue when its run's end is handled, just after its answer is posted.
    const base = `${prefix}:chatwoot:{cw:${TENANT}:1:1:${c}}`;
    await waitFor(async () => ((await redis.llen(`${base}:q`)) === 0 && (await redis.exists(`${base}:jobs`)) === 0) || null, {
      timeoutMs: 15_000,
      what: "the conversation's queue to empty",
    });
    expect(await listDeadLetters(redis, prefix, 'agent', 100).then((all) => all.filter((d) => d.raw.includes(`"conversationId":${c}`)))).toHaveLength(1);
  });
});
