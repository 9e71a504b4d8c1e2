import { ActionError } from '@parley/contracts';
import { ConversationFencedError, ConversationNotFoundError } from '@parley/conversation-store';

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
