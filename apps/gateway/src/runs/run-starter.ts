/** Starts runs for both the WebSocket and the REST API: ownership first, then `agent.run` on the bus. */
import type { ActionMeta, Bus } from '@parley/bus';
import type { AgentRun, Catalog, RunEvent, RunResult } from '@parley/contracts';
import type { Principal } from '../auth/verifier.js';
import type { GatewayMetrics } from '../metrics.js';
import type { RunOwners } from './run-owners.js';

export interface StartRun {
  run: AgentRun;
  principal: Principal;
  sessionId?: string;
  /** Live events, in order, to this process; other replicas read the run's event log instead. */
  onEvent?: (e: RunEvent) => void;
  /** The owner is already recorded (the WebSocket path writes it with the message claim). */
  ownerRecorded?: boolean;
}

export class RunStarter {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly bus: Bus<Catalog>,
    private readonly owners: RunOwners,
    private readonly metrics: GatewayMetrics,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once the run is recorded and sent; `result` settles when the run ends. */
  async start(req: StartRun): Promise<{ result: Promise<RunResult> }> {
    const { run, principal } = req;
    if (!req.ownerRecorded) await this.owners.record(run.runId, principal);
    const meta: ActionMeta = { tenantId: principal.tenantId, userId: principal.userId, roles: principal.roles, correlationId: run.runId };
    if (req.sessionId) meta.sessionId = req.sessionId;
    this.metrics.runsStarted.inc({ channel: run.channel });
    this.inFlight.add(run.runId);
    const opts = req.onEvent ? { timeoutMs: this.timeoutMs, onEvent: req.onEvent } : { timeoutMs: this.timeoutMs };
    const result = this.bus.call('agent.run', run, meta, opts).finally(() => this.inFlight.delete(run.runId));
    result.catch(() => { /* callers that only care about events must not crash the process with an unhandled rejection */ });
    return { result };
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }
}
