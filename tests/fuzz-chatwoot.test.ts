/**
 * Property-based fuzzing of POST /webhooks/chatwoot against the real services: correctly signed
 * deliveries whose content, fields and shape are hostile (control characters, U+0000, lone
 * surrogates, huge strings, wrong types, deep nesting). Whatever arrives: no 5xx, no internal
 * detail in the answer, nothing dead-lettered, and a fuzzed conversation still answers its
 * contact's next ordinary message.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, deletePrefix, dropTestDatabase, newRedis, uniquePrefix, urlForDatabase, waitFor } from '@parley/testing';
import { bodies, deliver, startFakeChatwoot, type FakeChatwoot } from './support/fake-chatwoot.js';
import { deadLettersWhenSettled, hostileValue, internalDetail, nastyString } from './support/fuzz.js';
import { startGateway, startServices, type RunningGateway, type Services } from './support/gateway-env.js';

const SECRET = 'cw-fuzz-secret-0123456789abcdef';
const API_TOKEN = 'cw-fuzz-api-token';

let prefix: string;
let db: string;
let services: Services;
let fake: FakeChatwoot;
let gw: RunningGateway;

beforeAll(async () => {
  prefix = uniquePrefix('cwfuzz');
  db = await createTestDatabase();
  fake = await startFakeChatwoot(API_TOKEN);
  services = await startServices(prefix, urlForDatabase(db));
  gw = await startGateway(prefix, {
    DATABASE_URL: urlForDatabase(db),
    CHATWOOT_BASE_URL: fake.url,
    OUTBOUND_ALLOW_HOSTS: '127.0.0.1',
    CHATWOOT_API_TOKEN: API_TOKEN,
    CHATWOOT_TENANT_ID: 't-cwfuzz',
    CHATWOOT_BACKOFF_MS: '20',
    CHATWOOT_WEBHOOK_SECRET: SECRET,
  });
});

afterAll(async () => {
  await gw?.close();
  await services?.stop();
  await fake?.close();
  const r = newRedis();
  await deletePrefix(r, prefix);
  r.disconnect();
  if (db) await dropTestDatabase(db);
});

const FIELDS = [
  'id',
  'content',
  'content_type',
  'content_attributes',
  'message_type',
  'private',
  'sender',
  'inbox',
  'account',
  'conversation',
  'attachments',
  'created_at',
  'source_id',
  'event',
];
const conversationIds = fc.integer({ min: 1, max: 40 });

/** A signed delivery: a contact's message with hostile content, one with hostile fields, a hostile conversation event, or any JSON at all. */
const delivery: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(conversationIds, nastyString).map(([conversation, content]) => bodies.incoming({ conversation }, content)) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(conversationIds, fc.dictionary(fc.constantFrom(...FIELDS), hostileValue, { minKeys: 1, maxKeys: 3 }))
      .map(([conversation, fields]) => ({ ...bodies.incoming({ conversation }, 'hello'), ...fields })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(conversationIds, fc.dictionary(fc.constantFrom('status', 'id', 'event', 'account_id', 'inbox_id'), hostileValue, { maxKeys: 2 }))
      .map(([conversation, fields]) => ({ ...bodies.conversationPending({ conversation }), ...fields })),
  },
  { weight: 1, arbitrary: hostileValue },
);

describe('fuzzing the Chatwoot webhook', () => {
  test('signed hostile deliveries: no 5xx, no internal detail, no dead letter; the conversation still answers', async () => {
    const touched = new Set<number>();
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(delivery, async (body) => {
        const conv = (body as { conversation?: { id?: unknown } } | null)?.conversation?.id;
        if (typeof conv === 'number') touched.add(conv);
        const res = await deliver(gw.http, body, { secret: SECRET });
        const text = JSON.stringify(res.json);
        const outcome = String(res.json['outcome'] ?? (res.json['error'] as { code?: string } | undefined)?.code ?? res.status);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        expect(res.status, `→ ${res.status} ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(internalDetail(text, JSON.stringify(body) ?? '')).toEqual([]);
        if (res.status >= 400)
          expect(res.json).toMatchObject({
            error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean), requestId: expect.any(String) },
          });
      }),
      { numRuns: 80, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
    );
    // The fuzzing reached the services: runs were started from hostile content.
    expect(outcomes.get('started') ?? 0, JSON.stringify([...outcomes])).toBeGreaterThan(0);
    expect(await deadLettersWhenSettled(prefix)).toEqual([]);

    // A contact whose conversation was fuzzed is still answered.
    const conversation = [...touched][0] ?? 1;
    const before = fake.posted(conversation).length;
    const res = await deliver(gw.http, bodies.incoming({ conversation }, 'after all that, what do you do?'), { secret: SECRET });
    expect(res.status).toBe(200);
    await waitFor(() => fake.posted(conversation).length > before, { timeoutMs: 30_000, what: 'an answer after the fuzzing' });
    expect(await deadLettersWhenSettled(prefix)).toEqual([]);
  }, 60_000);
});
