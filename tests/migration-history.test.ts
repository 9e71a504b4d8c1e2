// The conversation and migration services together, each its own process, through the bus only:
// a conversation reads the same (get_history, every page; get) before and after it is migrated,
// and keeps going after it — a new message re-opens it hot, the next migration adds just that.
import { fileURLToPath } from 'node:url';
import { createBus, type Bus } from '@parley/bus';
import { catalog, type Catalog, type GetHistoryReply, type HistoryMessage } from '@parley/contracts';
import { pgTest, redisUrl, spawnTs, waitFor, type TsProcess } from '@parley/testing';
import { afterEach, describe, expect } from 'vitest';
import { archiveCounts, startMigration, statsAfter, uid } from '../apps/migration/src/testing/harness.js';

const conversationMain = fileURLToPath(new URL('../apps/conversation/src/main.ts', import.meta.url));
const started: TsProcess[] = [];
const buses: Array<Bus<Catalog>> = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close(0)));
  await Promise.all(started.splice(0).map((p) => p.kill('SIGKILL')));
});

const meta = { tenantId: 't1', sessionId: 'sess-h', userId: 'u1' };

async function services(prefix: string, dbUrl: string): Promise<Bus<Catalog>> {
  const conversation = spawnTs(conversationMain, { REDIS_URL: redisUrl, DATABASE_URL: dbUrl, BUS_PREFIX: prefix, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' });
  started.push(conversation);
  started.push(await startMigration({ BUS_PREFIX: prefix, DATABASE_URL: dbUrl, MIGRATION_INTERVAL_MS: '50' }));
  await conversation.waitForOutput('"msg":"ready"', 20_000);
  const bus = createBus({ catalog, service: 'test', redis: redisUrl, prefix });
  buses.push(bus);
  return bus;
}

/** Every page, newest first as a client scrolls up, concatenated oldest first. */
async function fullHistory(bus: Bus<Catalog>, conversationId: string): Promise<{ pages: GetHistoryReply[]; messages: HistoryMessage[] }> {
  const pages: GetHistoryReply[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await bus.call('conversation.get_history', { conversationId, limit: 37, ...(before ? { before } : {}) }, meta);
    pages.push(page);
    if (!page.hasMore || page.messages.length === 0) break;
    before = page.messages[0]!.seq;
  }
  return { pages, messages: pages.toReversed().flatMap((p) => p.messages) };
}

async function save(bus: Bus<Catalog>, conversationId: string, i: number): Promise<void> {
  const role = i % 3 === 0 ? 'user' : i % 3 === 1 ? 'assistant' : 'tool';
  await bus.call(
    'conversation.save_message',
    {
      messageId: `${conversationId}-m${i}`,
      conversationId,
      role,
      content: `${role} says ${i}: "quoted", {braces}, ✓`,
      channel: 'web',
      agentId: 'support',
      ...(role === 'assistant' ? { model: 'dev', latencyMs: 100 + i, toolCalls: [{ id: `call-${i}`, name: 'search', arguments: `{"q":"${i}"}` }] } : {}),
      ...(role === 'tool' ? { toolCallId: `call-${i - 1}` } : {}),
    },
    meta,
  );
}

describe('history across migration', () => {
  pgTest('get_history and get answer the same before and after migration, and the conversation continues afterwards', async ({ prefix, redis, db }) => {
    const bus = await services(prefix, db.url);
    const id = uid('h');
    for (let i = 0; i < 120; i++) await save(bus, id, i);
    const before = await fullHistory(bus, id);
    expect(before.messages.map((m) => m.seq)).toEqual(Array.from({ length: 120 }, (_, k) => k + 1));
    const header = await bus.call('conversation.get', { conversationId: id }, meta);

    await bus.call('conversation.session_closed', { conversationId: id }, meta);
    const closedHeader = await bus.call('conversation.get', { conversationId: id }, meta);
    await waitFor(async () => (await redis.exists(`${prefix}:{conv:${id}}:meta`)) === 0, { what: 'the migration to remove the hot copy' });
    expect(await archiveCounts(db.pool, [id])).toMatchObject({ conversations: 1, messages: 120, duplicateSeqs: 0 });

    const after = await fullHistory(bus, id);
    expect(after.pages).toEqual(before.pages);
    // Only where it lives changes.
    expect(await bus.call('conversation.get', { conversationId: id }, meta)).toEqual({ ...closedHeader, archived: true });
    expect(closedHeader).toMatchObject({ archived: false, status: 'closed', messageCount: header.messageCount, title: header.title });

    // A user comes back: the conversation re-opens hot, numbering continues, the archive is still read.
    await save(bus, id, 120);
    const reopened = await fullHistory(bus, id);
    expect(reopened.messages.slice(0, 120)).toEqual(before.messages);
    expect(reopened.messages.at(-1)).toMatchObject({ seq: 121, messageId: `${id}-m120` });
    await bus.call('conversation.session_closed', { conversationId: id }, meta);
    await waitFor(async () => (await redis.exists(`${prefix}:{conv:${id}}:meta`)) === 0, { what: 'the second migration' });
    expect(await archiveCounts(db.pool, [id])).toMatchObject({ messages: 121, duplicateSeqs: 0 });
    expect((await fullHistory(bus, id)).messages).toEqual(reopened.messages);
    expect(await statsAfter(bus, 2)).toMatchObject({ migratedConversations: 2, migratedMessages: 121, failed: 0 });
  });
});
