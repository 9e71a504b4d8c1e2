/** The store tests' fixture: a ConversationStore per test on its own key prefix and database, and message builders. */
import { createDb } from '@parley/db/client';
import { pgModeTest } from '@parley/testing';
import { HotStore } from '../hot-store.js';
import { ConversationStore } from '../store.js';
import type { AppendInput } from '../types.js';

export const test = pgModeTest.extend('store', async ({ prefix, redis, db }) => {
  const hot = new HotStore(redis, { prefix, idleMs: 60_000 });
  return new ConversationStore(hot, createDb(db.pool), { reopenWaitMs: 2_000 });
});

let n = 0;
export function msg(conversationId: string, over: Partial<AppendInput> = {}): AppendInput {
  n += 1;
  return { conversationId, messageId: `m-${n}-${Math.random().toString(36).slice(2, 8)}`, role: 'user', content: `hello ${n}`, tokenCount: 5, ...over };
}

export const uid = () => `c-${Math.random().toString(36).slice(2, 10)}`;
