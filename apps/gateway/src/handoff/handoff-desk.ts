/**
 * The support desk of web conversations: asking for a person, taking over, writing as a person,
 * handing back, and a user writing while a person handles the conversation. Each step is saved in the
 * transcript first (a `handoff` marker or a `human_agent` message, through the conversation service),
 * then published on the tenant's feed for every replica's sockets and consoles.
 */
import { uuidv7, type Bus } from '@parley/bus';
import {
  ActionError,
  HANDOFF_MARK_KEY,
  isChannelConversationId,
  type Catalog,
  type Handoff,
  type HandoffMark,
  type HandoffMessage,
  type HandoffQueue,
  type HumanAgent,
  type MessageRole,
} from '@parley/contracts';
import { userActor, type ConversationAccess } from '../auth/access.js';
import type { Principal } from '../auth/verifier.js';
import type { HandoffFeed } from './handoff-feed.js';
import type { HandoffStore } from './handoff-store.js';

const CALL = { timeoutMs: 5_000 };

export class HandoffDesk {
  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly access: ConversationAccess,
    readonly store: HandoffStore,
    readonly feed: HandoffFeed,
  ) {}

  async queue(tenantId: string, limit = 100): Promise<HandoffQueue> {
    const items = await this.store.list(tenantId, limit);
    return { items, waiting: items.filter((h) => h.state === 'waiting').length };
  }

  /** A web run asked for a person (or an operator put it in the queue): idempotent, a held conversation stays held. */
  async askForHuman(tenantId: string, conversationId: string, userId: string, reason: string, markerId: string): Promise<Handoff | null> {
    const { changed, handoff } = await this.store.wait(tenantId, conversationId, userId, reason);
    if (!changed || !handoff) return handoff;
    await this.record(tenantId, userId, conversationId, {
      messageId: markerId,
      role: 'handoff',
      content: 'Waiting for a person',
      handoff: { event: 'waiting' },
    });
    await this.feed.publish(tenantId, { type: 'state', handoff });
    return handoff;
  }

  /** Staff take a conversation of their tenant; someone else holding it is a conflict naming them. */
  async takeover(p: Principal, conversationId: string): Promise<Handoff> {
    const ownerId = await this.webConversation(p, conversationId);
    const me = agentOf(p);
    const taken = await this.store.take(p.tenantId, conversationId, me, ownerId);
    if (!taken.ok) {
      throw new ActionError('conflict', `conversation ${conversationId} is held by ${taken.holder.name}`, { details: { holder: taken.holder } });
    }
    if (!taken.again) {
      await this.record(p.tenantId, ownerId, conversationId, {
        messageId: uuidv7(),
        role: 'handoff',
        content: `${me.name} joined`,
        handoff: { event: 'joined', agent: me },
      });
      await this.feed.publish(p.tenantId, { type: 'state', handoff: taken.handoff });
    }
    return taken.handoff;
  }

  /** The holder gives the conversation back to the bot. */
  async handback(p: Principal, conversationId: string): Promise<Handoff> {
    const ownerId = await this.webConversation(p, conversationId);
    const released = await this.store.release(p.tenantId, conversationId, p.userId);
    if (!released.ok) throw await this.notHeld(p, conversationId);
    const me = agentOf(p);
    await this.record(p.tenantId, ownerId, conversationId, {
      messageId: uuidv7(),
      role: 'handoff',
      content: `${me.name} left`,
      handoff: { event: 'left', agent: me },
    });
    const handoff: Handoff = { conversationId, state: 'bot', userId: ownerId, since: new Date().toISOString() };
    await this.feed.publish(p.tenantId, { type: 'state', handoff });
    return handoff;
  }

  /** A message of the holder to the user; idempotent by the client's id. */
  async operatorMessage(p: Principal, conversationId: string, messageId: string, text: string): Promise<HandoffMessage> {
    const ownerId = await this.webConversation(p, conversationId);
    const held = await this.store.get(p.tenantId, conversationId);
    if (held?.state !== 'human' || held.holder?.id !== p.userId) throw await this.notHeld(p, conversationId);
    const message = await this.record(p.tenantId, ownerId, conversationId, { messageId, role: 'human_agent', content: text, handoff: { agent: agentOf(p) } });
    return message;
  }

  /** The user wrote while the conversation waits for or is held by a person: saved and shown to them, no run. */
  async userMessage(p: Principal, conversationId: string, messageId: string, text: string): Promise<HandoffMessage> {
    return this.record(p.tenantId, p.userId, conversationId, { messageId, role: 'user', content: text });
  }

  /** Who handles the conversation now (null: the bot). */
  handling(tenantId: string, conversationId: string): Promise<Handoff | null> {
    return this.store.get(tenantId, conversationId);
  }

  /** Staff only, an existing web conversation of the tenant (anything else is not_found); answers its user. */
  private async webConversation(p: Principal, conversationId: string): Promise<string> {
    const actor = userActor(p);
    if (!actor.staff || isChannelConversationId(conversationId)) throw new ActionError('not_found', `no conversation ${conversationId}`);
    await this.access.check(actor, conversationId, 'read');
    const c = await this.bus.call('conversation.get', { conversationId }, { tenantId: p.tenantId, userId: p.userId }, CALL);
    if (!c.userId) throw new ActionError('not_found', `no conversation ${conversationId}`);
    return c.userId;
  }

  private async notHeld(p: Principal, conversationId: string): Promise<ActionError> {
    const now = await this.store.get(p.tenantId, conversationId);
    if (now?.state === 'human' && now.holder) {
      return new ActionError('conflict', `conversation ${conversationId} is held by ${now.holder.name}, not you`, { details: { holder: now.holder } });
    }
    const state = now?.state ?? 'bot';
    return new ActionError(
      'conflict',
      `conversation ${conversationId} is not held by you (it is ${state === 'bot' ? 'answered by the bot' : 'waiting for a person'}); take it over first`,
      {
        details: { state },
      },
    );
  }

  /** Saves one transcript entry as the conversation's user's, then publishes it to the tenant's feed. */
  private async record(
    tenantId: string,
    ownerId: string,
    conversationId: string,
    m: { messageId: string; role: MessageRole; content: string; handoff?: HandoffMark },
  ): Promise<HandoffMessage> {
    const metadata = m.handoff ? { [HANDOFF_MARK_KEY]: m.handoff } : undefined;
    await this.bus.call(
      'conversation.save_message',
      { messageId: m.messageId, conversationId, role: m.role, content: m.content, channel: 'web', ...(metadata ? { metadata } : {}) },
      { tenantId, userId: ownerId },
      CALL,
    );
    const message: HandoffMessage = {
      messageId: m.messageId,
      role: m.role,
      content: m.content,
      createdAt: new Date().toISOString(),
      ...(m.handoff ? { handoff: m.handoff } : {}),
    };
    await this.feed.publish(tenantId, { type: 'message', conversationId, message });
    return message;
  }
}

/**
 * How a person of the staff is shown to the user. Tokens carry no display name the gateway trusts
 * yet, so it is the user id the identity provider gave them.
 */
function agentOf(p: Principal): HumanAgent {
  return { id: p.userId, name: p.userId };
}
