/**
 * The one authorization rule for conversations and runs, used by every entry point (WS frames,
 * REST routes, run starts of any channel):
 *
 * - everything belongs to a tenant, and nobody crosses tenants;
 * - a conversation or run has an owner: a user (web, REST) or a channel contact (Chatwoot);
 * - a plain user touches only what they own; staff (`admin` or `operator`) of the tenant may read
 *   and act on everything of the tenant;
 * - a channel conversation (an id with `:`) is written only by its channel, never from the web or
 *   REST, whoever asks (`invalid_payload`, the answer the ClientId schema gives the same ids);
 * - an unknown or foreign id is `not_found`, so a caller learns nothing about ids that are not theirs.
 */
import type { Bus } from '@parley/bus';
import { ActionError, isChannelConversationId, type Catalog } from '@parley/contracts';
import type { Principal } from './verifier.js';

/** Who owns a conversation or a run. A user and a contact never match, even with equal ids. */
export interface Owner {
  kind: 'user' | 'contact';
  id: string;
}

/** Whoever acts: a signed-in user, or a channel contact the channel vouches for. */
export interface Actor {
  tenantId: string;
  owner: Owner;
  staff: boolean;
}

export const STAFF_ROLES: readonly string[] = ['admin', 'operator'];

export function isStaff(p: Pick<Principal, 'roles'>): boolean {
  return p.roles.some((r) => STAFF_ROLES.includes(r));
}

export function userActor(p: Principal): Actor {
  return { tenantId: p.tenantId, owner: { kind: 'user', id: p.userId }, staff: isStaff(p) };
}

/** A channel contact (e.g. `chatwootContactId(...)`): never staff, owns only its channel conversations. */
export function contactActor(tenantId: string, contactId: string): Actor {
  return { tenantId, owner: { kind: 'contact', id: contactId }, staff: false };
}

export function sameOwner(a: Owner | null, b: Owner): boolean {
  return a !== null && a.kind === b.kind && a.id === b.id;
}

/** The rule itself, for anything that carries its tenant and owner (null: owner not known, staff only). */
export function mayTouch(actor: Actor, thing: { tenantId: string; owner: Owner | null }): boolean {
  if (thing.tenantId !== actor.tenantId) return false;
  return actor.staff || sameOwner(thing.owner, actor.owner);
}

/** The owner a conversation's stored `userId` names: in a channel namespace it is a contact. */
export function conversationOwner(conversationId: string, userId: string | null): Owner | null {
  if (userId === null || userId === '') return null;
  return { kind: isChannelConversationId(conversationId) ? 'contact' : 'user', id: userId };
}

/** Only this module holds it, so only this module can make a grant. */
const MINT = Symbol('conversation-grant');

/**
 * Proof that an actor passed the rule for one conversation. Only this module makes them, so a run
 * start that carries one was checked, and RunStarter checks whatever comes without one.
 */
export class ConversationGrant {
  constructor(
    key: typeof MINT,
    readonly tenantId: string,
    readonly owner: Owner,
    readonly conversationId: string,
    readonly intent: 'read' | 'write',
    /** The id is not used yet in this tenant: writing creates it, owned by the actor. */
    readonly fresh: boolean,
  ) {
    if (key !== MINT) throw new Error('conversation grants are issued by ConversationAccess only');
  }

  covers(actor: Actor, conversationId: string, intent: 'read' | 'write'): boolean {
    return (
      this.tenantId === actor.tenantId &&
      sameOwner(this.owner, actor.owner) &&
      this.conversationId === conversationId &&
      (this.intent === 'write' || intent === 'read')
    );
  }
}

function issue(actor: Actor, conversationId: string, intent: 'read' | 'write', fresh: boolean): ConversationGrant {
  return new ConversationGrant(MINT, actor.tenantId, actor.owner, conversationId, intent, fresh);
}

const notFound = (id: string) => new ActionError('not_found', `no conversation ${id}`);

export class ConversationAccess {
  constructor(private readonly bus: Bus<Catalog>) {}

  /**
   * Reading needs an existing conversation the actor may touch. Writing also accepts an id not used
   * yet in the tenant (the actor's first message creates it as theirs), but never a channel's id from
   * a user, nor a user's id from a contact.
   */
  async check(actor: Actor, conversationId: string, intent: 'read' | 'write'): Promise<ConversationGrant> {
    const channel = isChannelConversationId(conversationId);
    if (intent === 'write' && channel && actor.owner.kind === 'user') {
      throw new ActionError('invalid_payload', `conversation ${conversationId} belongs to a channel; it cannot be written from the web or REST`);
    }
    if (intent === 'write' && !channel && actor.owner.kind === 'contact') throw notFound(conversationId);
    let found: { userId: string | null } | null;
    try {
      found = await this.bus.call('conversation.get', { conversationId }, { tenantId: actor.tenantId, userId: actor.owner.id }, { timeoutMs: 5_000 });
    } catch (err) {
      if (!(err instanceof ActionError && err.code === 'not_found')) throw err;
      // Ids are global: another tenant's is never "not used yet" here.
      if (err.details?.['otherTenant'] === true) throw notFound(conversationId);
      found = null;
    }
    if (!found) {
      if (intent === 'read') throw notFound(conversationId);
      return issue(actor, conversationId, intent, true);
    }
    const owner = conversationOwner(conversationId, found.userId);
    // A channel conversation saved before its contact was known has no owner: its channel may still write it.
    const channelOwnsIt = actor.owner.kind === 'contact' && channel && owner === null;
    if (!channelOwnsIt && !mayTouch(actor, { tenantId: actor.tenantId, owner })) throw notFound(conversationId);
    return issue(actor, conversationId, intent, false);
  }

  /**
   * The actor's latest open conversation with this agent, to resume on a socket opened without one:
   * the user's own web or REST conversations only (staff are not special here, and a channel's are
   * never among them). Writing it passes the rule by construction: the list is the owner's.
   */
  async latestOpen(actor: Actor, agentId: string): Promise<ConversationGrant | null> {
    if (actor.owner.kind !== 'user') return null;
    const meta = { tenantId: actor.tenantId, userId: actor.owner.id };
    const page = await this.bus.call('conversation.list', { userId: actor.owner.id, agentId, status: 'open', limit: 1 }, meta, { timeoutMs: 5_000 });
    const found = page.items[0];
    if (!found || found.userId !== actor.owner.id || isChannelConversationId(found.conversationId)) return null;
    return issue(actor, found.conversationId, 'write', false);
  }

  /** An id the server just generated (conversation.new, a socket without one): nobody else can hold it. */
  generated(actor: Actor, conversationId: string): ConversationGrant {
    return issue(actor, conversationId, 'write', true);
  }
}

/** Where the gateway keeps each run's tenant and owner (RunOwners). */
export interface RunOwnerLookup {
  get(runId: string): Promise<{ tenantId: string; owner: Owner } | null>;
}

export class RunAccess {
  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly owners: RunOwnerLookup,
  ) {}

  /**
   * Reading, following, cancelling a run: the rule, with the run's tenant and owner from the
   * gateway's record, else from agent-execution's (tenant-scoped: another tenant's run is
   * `not_found` there). A run recorded without an owner is open to the tenant's staff only; a
   * made-up id is `not_found`.
   */
  async check(actor: Actor, runId: string): Promise<void> {
    const notFound = new ActionError('not_found', `no run ${runId}`);
    const recorded = await this.owners.get(runId);
    if (recorded) {
      if (!mayTouch(actor, recorded)) throw notFound;
      return;
    }
    let run: { channel: string; ownerId?: string | null | undefined };
    try {
      run = await this.bus.call('agent.get_run', { runId }, { tenantId: actor.tenantId, userId: actor.owner.id }, { timeoutMs: 5_000 });
    } catch (err) {
      if (err instanceof ActionError && err.code === 'not_found') throw notFound;
      throw err;
    }
    if (!mayTouch(actor, { tenantId: actor.tenantId, owner: runOwner(run) })) throw notFound;
  }
}

/** The owner agent-execution stored with a run: runs of a channel belong to its contact. */
export function runOwner(run: { channel: string; ownerId?: string | null | undefined }): Owner | null {
  if (!run.ownerId) return null;
  return { kind: run.channel === 'chatwoot' ? 'contact' : 'user', id: run.ownerId };
}
