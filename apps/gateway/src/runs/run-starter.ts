/**
 * Starts every run of the gateway (WebSocket, REST, channels): the conversation rule first, then
 * the owner record (tenant + owner), then `agent.run` on the bus. No caller can skip the rule: a run
 * on a conversation needs a grant for it, checked here when the caller brings none.
 */
import type { ActionMeta, Bus } from '@parley/bus';
import type { AgentRun, Catalog, RunEvent, RunResult } from '@parley/contracts';
import { userActor, type Actor, type ConversationAccess, type ConversationGrant } from '../auth/access.js';
import type { Principal } from '../auth/verifier.js';
import type { GatewayMetrics } from '../metrics.js';
import type { RunOwners } from './run-owners.js';

/** Who starts the run: a signed-in user (web, REST), or a channel contact (`contactActor(tenantId, chatwootContactId(...))`). */
export type RunBy = ({ principal: Principal } | { actor: Actor }) & {
  /** The HTTP request that starts the run (rest/request-id.ts): the trace id of its actions when no trace context is active. */
  requestId?: string;
};

export type StartRun = RunBy & {
  run: AgentRun;
  sessionId?: string;
  /** From `ConversationAccess.check(actor, run.conversationId, 'write')`, when the caller already has one. */
  grant?: ConversationGrant;
  /** Live events, in order, to this process; other replicas read the run's event log instead. */
  onEvent?: (e: RunEvent) => void;
  /** The owner is already recorded (the WebSocket path writes it with the message claim). */
  ownerRecorded?: boolean;
};

export type SendRun = RunBy & {
  run: AgentRun;
  /** The bus action id: a channel restarting a stalled run sends it again under a new one. */
  actionId?: string;
  grant?: ConversationGrant;
};

export class RunStarter {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly owners: RunOwners,
    private readonly access: ConversationAccess,
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Resolves once the run is authorized, recorded and sent; `result` settles when the run ends.
   * Refusals reject (`not_found`, or `invalid_payload` for a channel's conversation from the web).
   */
  async start(req: StartRun): Promise<{ result: Promise<RunResult> }> {
    const { run } = req;
    const meta = await this.admit(req, !req.ownerRecorded);
    if (req.sessionId) meta.sessionId = req.sessionId;
    this.metrics.runsStarted.inc({ channel: run.channel });
    this.inFlight.add(run.runId);
    const opts = req.onEvent ? { timeoutMs: this.timeoutMs, onEvent: req.onEvent } : { timeoutMs: this.timeoutMs };
    const result = this.bus.call('agent.run', run, meta, opts).finally(() => this.inFlight.delete(run.runId));
    result.catch(() => {
      // Callers that only care about events must not crash the process with an unhandled rejection.
    });
    return { result };
  }

  /** Like start, without waiting for a reply: the channel hears of the outcome through its own action. */
  async send(req: SendRun): Promise<void> {
    const meta = await this.admit(req, true);
    if (req.actionId) meta.actionId = req.actionId;
    this.metrics.runsStarted.inc({ channel: req.run.channel });
    await this.bus.send('agent.run', req.run, meta);
  }

  private async admit(req: RunBy & { run: AgentRun; grant?: ConversationGrant | undefined }, record: boolean): Promise<ActionMeta> {
    const { run } = req;
    const actor = 'principal' in req ? userActor(req.principal) : req.actor;
    if (run.conversationId && !req.grant?.covers(actor, run.conversationId, 'write')) {
      await this.access.check(actor, run.conversationId, 'write');
    }
    if (record) await this.owners.record(run.runId, actor);
    const meta: ActionMeta = { tenantId: actor.tenantId, userId: actor.owner.id, correlationId: run.runId };
    if (req.requestId !== undefined) meta.traceId = req.requestId;
    if ('principal' in req) meta.roles = req.principal.roles;
    return meta;
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }
}
