/**
 * Whether a user may read or write a conversation. The conversation service scopes by tenant; the
 * gateway adds the per-user rule (a user sees their own conversations, an admin the tenant's).
 * An id nobody has used yet is allowed: it becomes the user's on the first message.
 */
import { ActionError, type Catalog } from '@parley/contracts';
import type { Bus } from '@parley/bus';
import { isAdmin, type Principal } from '../auth/verifier.js';

export async function mayUseConversation(bus: Bus<Catalog>, p: Principal, conversationId: string): Promise<boolean> {
  try {
    const c = await bus.call('conversation.get', { conversationId }, { tenantId: p.tenantId, userId: p.userId }, { timeoutMs: 5_000 });
    return c.userId === null || c.userId === p.userId || isAdmin(p);
  } catch (err) {
    if (err instanceof ActionError && err.code === 'not_found') return true;
    throw err;
  }
}
