/** The conversation service behind a real bus, for end-to-end tests (a file's own database, a test's own prefix). */
import { createBus, type ActionMeta, type Bus } from '@parley/bus';
import { ActionError, catalog, type Catalog } from '@parley/contracts';
import { migrateConversation } from '@parley/conversation-store';
import { pgTest, redisUrl } from '@parley/testing';
import { onTestFinished } from 'vitest';
import type { ConversationDeps } from '../domain/ports.js';
import { createConversationDeps } from '../wiring.js';
import { conversationHandlers } from '../handlers/index.js';

export interface Harness {
  bus: Bus<Catalog>;
  deps: ConversationDeps;
  /** Archives a conversation now, like apps/migration will. */
  archive(conversationId: string): Promise<void>;
}

export const conversationTest = pgTest.extend('h', async ({ prefix, redis, db }): Promise<Harness> => {
  const config = { hot: { idleMs: 60_000, ttlMs: 86_400_000 }, db: { poolMax: 5 } };
  const deps = createConversationDeps(redis, db.pool, prefix, config);
  const worker = createBus({ catalog, redis: redisUrl, prefix, service: 'conversation', instance: 'w1' });
  worker.handle('conversation', conversationHandlers(deps), { concurrency: 16 });
  const bus = createBus({ catalog, redis: redisUrl, prefix, service: 'test', instance: 'caller' });
  onTestFinished(async () => {
    await bus.close(200);
    await worker.close(500);
  });
  return {
    bus,
    deps,
    archive: async (id) => {
      const res = await migrateConversation(deps.store.hot, deps.store.db, id);
      if (!res.migrated) throw new Error(`not migrated: ${JSON.stringify(res)}`);
    },
  };
});

export const t1 = { tenantId: 't1', sessionId: 'sess-1', userId: 'u1' };
export const t2 = { tenantId: 't2' };
let counter = 0;
export const id = (p: string) => `${p}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export async function errorOf(p: Promise<unknown>): Promise<ActionError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ActionError)) throw new Error(`expected an ActionError, got ${String(err)}`);
  return err;
}

export async function seed(bus: Bus<Catalog>, conversationId: string, n: number, meta: ActionMeta = t1) {
  for (let i = 1; i <= n; i++) {
    const role = i % 2 ? 'user' : 'assistant';
    await bus.call(
      'conversation.save_message',
      {
        messageId: id('m'),
        conversationId,
        role,
        content: `message ${i}`,
        channel: 'web',
        agentId: 'support',
        latencyMs: role === 'assistant' ? i * 100 : undefined,
      },
      meta,
    );
  }
}
