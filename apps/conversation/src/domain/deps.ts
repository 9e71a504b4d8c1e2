import { ActionError } from '@parley/contracts';
import { ConversationFencedError, ConversationNotFoundError, ConversationStore, HotStore } from '@parley/conversation-store';
import { createDb, type Pool } from '@parley/db/client';
import type { Redis } from 'ioredis';
import type { ConversationConfig } from '../env.js';

/** Everything the domain functions use; built once in main.ts, built the same way in tests. */
export interface ConversationDeps {
  store: ConversationStore;
}

export function createConversationDeps(redis: Redis, pool: Pool, prefix: string, config: ConversationConfig): ConversationDeps {
  return { store: new ConversationStore(new HotStore(redis, { prefix, ...config.hot }), createDb(pool)) };
}

/**
 * The store's refusals as the answers a caller acts on: "unknown or another tenant's" is one
 * not_found; a fenced save whose run lost the conversation is a conflict (not retryable: a retry would
 * be refused the same way).
 */
export async function asActionError<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ConversationNotFoundError) throw new ActionError('not_found', err.message);
    if (err instanceof ConversationFencedError) throw new ActionError('conflict', err.message);
    throw err;
  }
}
