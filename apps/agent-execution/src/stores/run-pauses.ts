import { and, eq, lt, sql } from 'drizzle-orm';
import { agentRuns, withDbRetry, type Db, type DbRetryOptions, type RunPause } from '@parley/db';
import type { StoredRunStep } from '@parley/contracts';

type RunRow = typeof agentRuns.$inferSelect;
export type Decision = NonNullable<RunPause['decision']>;

/**
 * The paused side of `agent_runs`: RUNNING → PAUSED (the run waits on a tool call, holding nothing) → RUNNING again
 * once a decision (or the timeout) is recorded. Each move is one conditional UPDATE on the status, so two replicas,
 * two deciders or a decider racing the timeout sweep cannot both win: the loser changes no row.
 */
export class RunPauses {
  constructor(
    private readonly db: Db,
    private readonly retry: DbRetryOptions = { budgetMs: 0 },
  ) {}

  /** RUNNING → PAUSED with what resuming needs and the steps so far (GET and SSE show the approval_requested step). */
  pause(runId: string, pause: RunPause, steps: { steps: StoredRunStep[]; omitted: number }): Promise<boolean> {
    return withDbRetry(async () => {
      const rows = await this.db
        .update(agentRuns)
        .set({ status: 'PAUSED', pause, pauseExpiresAt: new Date(pause.approval.expiresAt), steps: steps.steps, stepsOmitted: steps.omitted })
        .where(and(eq(agentRuns.runId, runId), eq(agentRuns.status, 'RUNNING')))
        .returning({ runId: agentRuns.runId });
      return rows.length > 0;
    }, this.retry);
  }

  /** The run as a decision or a resume needs it (tenant-scoped: another tenant's run is null). */
  async load(tenantId: string, runId: string): Promise<RunRow | null> {
    const [row] = await this.db
      .select()
      .from(agentRuns)
      .where(and(eq(agentRuns.runId, runId), eq(agentRuns.tenantId, tenantId)));
    return row ?? null;
  }

  /** PAUSED on this approval → RUNNING with the decision recorded; false when it was not waiting on it any more. */
  decide(tenantId: string, runId: string, approvalId: string, decision: Decision): Promise<boolean> {
    return withDbRetry(async () => {
      const rows = await this.db
        .update(agentRuns)
        .set({ status: 'RUNNING', pause: sql`jsonb_set(${agentRuns.pause}, '{decision}', ${JSON.stringify(decision)}::jsonb)`, pauseExpiresAt: null })
        .where(
          and(
            eq(agentRuns.runId, runId),
            eq(agentRuns.tenantId, tenantId),
            eq(agentRuns.status, 'PAUSED'),
            sql`${agentRuns.pause} -> 'approval' ->> 'approvalId' = ${approvalId}`,
          ),
        )
        .returning({ runId: agentRuns.runId });
      return rows.length > 0;
    }, this.retry);
  }

  /** Paused runs past their timeout, claimed (→ RUNNING, decision `timeout`) so exactly one sweeper fails each. */
  async claimExpired(now: Date, limit = 50): Promise<Array<{ runId: string; tenantId: string }>> {
    const timeout: Decision = { decision: 'timeout', by: null };
    const expired = this.db
      .select({ runId: agentRuns.runId })
      .from(agentRuns)
      .where(and(eq(agentRuns.status, 'PAUSED'), lt(agentRuns.pauseExpiresAt, now)))
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.db
      .update(agentRuns)
      .set({ status: 'RUNNING', pause: sql`jsonb_set(${agentRuns.pause}, '{decision}', ${JSON.stringify(timeout)}::jsonb)`, pauseExpiresAt: null })
      .where(and(sql`${agentRuns.runId} in ${expired}`, eq(agentRuns.status, 'PAUSED')))
      .returning({ runId: agentRuns.runId, tenantId: agentRuns.tenantId });
  }
}
