import type { Handler } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import type { ConversationDeps } from '../domain/ports.js';
import { saveMessage } from '../domain/save.js';

/**
 * Session and user come from the envelope, like the tenant. A conversation busy with a migration
 * for longer than the store waits throws a plain error on purpose: the bus redelivers the save
 * later instead of answering a final error, so a fire-and-forget save is never dropped.
 */
export const saveMessageHandler =
  (deps: ConversationDeps): Handler<Catalog, 'conversation.save_message'> =>
  (data, ctx) =>
    saveMessage(deps, ctx.action, data);
