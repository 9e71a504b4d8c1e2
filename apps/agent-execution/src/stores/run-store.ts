import { and, desc, eq, getTableColumns, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import { agentRuns, withDbRetry, type Db, type DbRetryOptions } from '@parley/db';
import { ActionError, type Channel, type RunRecord, type RunStatus, type StoredRunStep, type Usage } from '@parley/contracts';

type RunRow = typeof agentRuns.$inferSelect;

export interface NewRun {
  runId: string;
  tenantId: string;
  agentId: string;
  /** The agent version the run starts with. */
  agentVersion: number;
  flow: string;
  conversationId: string | null;
  channel: Channel;
  /** The action's userId: who the run belongs to (see agent_runs.owner_id). */
  ownerId: string | null;
  input: unknown;
  /** Inserted RUNNING (its conversation already held, or none named) rather than PENDING (it waits for it first). */
  running: boolean;
}

/** What inserting a run found: the record (this delivery's, or an earlier one's), or the paused run that vetoed it. */
export type Created = { record: RunRecord; created: boolean } | { pausedBy: string };

export interface RunFinish {
  status: Extract<RunStatus, 'SUCCEEDED' | 'FAILED' | 'CANCELLED'>;
  output?: unknown;
  error?: { code: string; message: string };
  usage?: Usage;
  timings?: Record<string, number>;
  /** SUCCEEDED: run.completed's text and answer message id. */
  text?: string;
  messageId?: string;
  /** The run's kept steps (bounded by RunSteps) and how many it emitted beyond them. */
  steps?: StoredRunStep[];
  stepsOmitted?: number;
  /** The seq of the run's terminal event. */
  endSeq?: number;
}

function toRecord(row: RunRow): RunRecord {
  return {
    runId: row.runId,
    agentId: row.agentId,
    agentVersion: row.agentVersion,
    flow: row.flow,
    conversationId: row.conversationId,
    channel: row.channel,
    ownerId: row.ownerId,
    status: row.status,
    input: row.input,
    output: row.output ?? null,
    error: row.error ?? null,
    usage: row.usage ?? null,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    ...(row.steps ? { steps: row.steps, stepsOmitted: row.stepsOmitted ?? 0 } : {}),
    ...(row.text !== null ? { text: row.text } : {}),
    ...(row.messageId !== null ? { messageId: row.messageId } : {}),
    ...(row.endSeq !== null ? { endSeq: row.endSeq } : {}),
    ...(row.status === 'PAUSED' && row.pause ? { approval: row.pause.approval } : {}),
  };
}

/** What `agent.list_runs` filters by; every field narrows (and). */
export interface RunFilter {
  conversationId?: string | undefined;
  status?: RunStatus | undefined;
  flow?: string | undefined;
  agentId?: string | undefined;
  owner?: { kind: 'user' | 'contact'; id: string } | undefined;
}

const TERMINAL: readonly RunStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const isTerminal = (s: RunStatus) => TERMINAL.includes(s);

/** Another run of the conversation waiting on an approval (the partial index agent_runs_paused_conversation_idx). */
const pausedInConversation = (tenantId: SQL | string, conversationId: SQL | string) =>
  // The status a literal, not a parameter: a prepared statement's generic plan can then use the partial index.
  and(eq(agentRuns.tenantId, tenantId), eq(agentRuns.conversationId, conversationId), sql`${agentRuns.status} = 'PAUSED'`);

/**
 * A new run's row as a SELECT of the insert's placeholders that yields nothing when another run of its conversation is
 * PAUSED: the insert and the approval check in one statement. INSERT … SELECT names every column (drizzle lists the
 * table's), so each gets its value or null, cast to its type (a bare placeholder in a select list would be text).
 */
function newRunUnlessPaused(): SQL {
  const p = (name: string) => sql.placeholder(name);
  const values: Partial<Record<keyof RunRow, SQL>> = {
    runId: sql`${p('runId')}`,
    tenantId: sql`${p('tenantId')}`,
    agentId: sql`${p('agentId')}`,
    agentVersion: sql`${p('agentVersion')}`,
    flow: sql`${p('flow')}`,
    conversationId: sql`${p('conversationId')}`,
    channel: sql`${p('channel')}`,
    ownerId: sql`${p('ownerId')}`,
    input: sql`${sql.param(p('input'), agentRuns.input)}`,
    status: sql`${p('status')}`,
    // Times from JS (ms precision), so list cursors compare exactly what they carry; pg encodes a Date, and null.
    createdAt: sql`${p('createdAt')}`,
    startedAt: sql`${p('startedAt')}`,
  };
  const row = Object.entries(getTableColumns(agentRuns)).map(
    ([key, column]) => sql`${values[key as keyof RunRow] ?? sql`null`}::${sql.raw(column.getSQLType())}`,
  );
  const paused = pausedInConversation(sql`${p('tenantId')}`, sql`${p('conversationId')}`);
  return sql`select ${sql.join(row, sql`, `)} where not exists (select 1 from ${agentRuns} where ${paused} and ${agentRuns.runId} <> ${p('runId')})`;
}

/**
 * The `agent_runs` table: one row per run, PENDING → RUNNING → SUCCEEDED | FAILED | CANCELLED.
 * The writes of a run's life (create, RUNNING, final status) retry through a short database outage
 * (`retry`): they are idempotent, and failing them would leave a record behind its run. A handler
 * crash spends one of `agent.run`'s three deliveries and the bus's in-place retries all fall inside a
 * few seconds' outage, so waiting here keeps the run alive.
 */
export class RunStore {
  /**
   * The writes of a run's life, prepared once: drizzle builds their SQL here rather than on each run, and
   * PostgreSQL parses each once per connection (about half this process's CPU for them at 50 concurrent
   * runs). A run whose conversation is free is inserted RUNNING and makes two (insert, finish); one that
   * waited for its conversation is marked RUNNING in between.
   */
  private readonly statements;

  constructor(
    private readonly db: Db,
    private readonly retry: DbRetryOptions = { budgetMs: 0 },
  ) {
    const p = <T extends string>(name: T) => sql.placeholder(name);
    // A placeholder in SET is not typed as a column value; bound to its column, it is still encoded like one (jsonb).
    const col = <T extends string>(name: T, column: Parameters<typeof sql.param>[1]) => sql`${sql.param(p(name), column)}`;
    this.statements = {
      insert: db.insert(agentRuns).select(newRunUnlessPaused()).onConflictDoNothing().returning().prepare('agent_runs_insert'),
      running: db
        .update(agentRuns)
        .set({ status: 'RUNNING', startedAt: col('at', agentRuns.startedAt) })
        .where(and(eq(agentRuns.runId, p('runId')), eq(agentRuns.status, 'PENDING')))
        .prepare('agent_runs_running'),
      finish: db
        .update(agentRuns)
        .set({
          status: col('status', agentRuns.status),
          output: col('output', agentRuns.output),
          error: col('error', agentRuns.error),
          usage: col('usage', agentRuns.usage),
          timings: col('timings', agentRuns.timings),
          steps: col('steps', agentRuns.steps),
          stepsOmitted: col('stepsOmitted', agentRuns.stepsOmitted),
          text: col('text', agentRuns.text),
          messageId: col('messageId', agentRuns.messageId),
          endSeq: col('endSeq', agentRuns.endSeq),
          // Times from this process's clock, like createdAt, so a record's times never run backwards.
          finishedAt: col('at', agentRuns.finishedAt),
          startedAt: sql`coalesce(${agentRuns.startedAt}, ${sql.param(p('at'), agentRuns.startedAt)})`,
        })
        .where(and(eq(agentRuns.runId, p('runId')), sql`${agentRuns.status} in ('PENDING', 'RUNNING')`))
        .returning({ runId: agentRuns.runId })
        .prepare('agent_runs_finish'),
    };
  }

  /**
   * Inserts the run's row, or returns the row a previous delivery of the same run left. A conversation that
   * waits on an approval (another of its runs PAUSED) takes no new run: the insert's own statement checks,
   * so a run's record costs one round trip.
   */
  create(run: NewRun): Promise<Created> {
    return withDbRetry(() => this.insert(run), this.retry);
  }

  markRunning(runId: string): Promise<void> {
    return withDbRetry(async () => {
      await this.statements.running.execute({ runId, at: new Date() });
    }, this.retry);
  }

  /** Only a run not yet terminal is finished, so a late writer (a worker presumed dead) cannot overwrite the outcome. */
  finish(runId: string, outcome: RunFinish): Promise<boolean> {
    return withDbRetry(() => this.update(runId, outcome), this.retry);
  }

  private async insert(run: NewRun): Promise<Created> {
    const { running, ...values } = run;
    const at = new Date();
    const params = { ...values, input: run.input ?? {}, createdAt: at, status: running ? 'RUNNING' : 'PENDING', startedAt: running ? at : null };
    const [inserted] = await this.statements.insert.execute(params);
    if (inserted) return { record: toRecord(inserted), created: true };
    const [row] = await this.db.select().from(agentRuns).where(eq(agentRuns.runId, run.runId));
    if (row) return { record: toRecord(row), created: false };
    const pausedBy = run.conversationId ? await this.pausedIn(run.tenantId, run.conversationId, run.runId) : null;
    if (pausedBy) return { pausedBy };
    // The paused run went on between the insert and this look: nothing vetoes the run any more.
    const [again] = await this.statements.insert.execute(params);
    if (!again) throw new Error(`run ${run.runId} was neither inserted nor found`);
    return { record: toRecord(again), created: true };
  }

  /** The run another of the conversation's runs waits on a decision in, if one does. */
  private async pausedIn(tenantId: string, conversationId: string, runId: string): Promise<string | null> {
    const [row] = await this.db
      .select({ runId: agentRuns.runId })
      .from(agentRuns)
      .where(and(pausedInConversation(tenantId, conversationId), ne(agentRuns.runId, runId)))
      .limit(1);
    return row?.runId ?? null;
  }

  private async update(runId: string, outcome: RunFinish): Promise<boolean> {
    const rows = await this.statements.finish.execute({
      runId,
      at: new Date(),
      status: outcome.status,
      output: outcome.output ?? null,
      error: outcome.error ?? null,
      usage: outcome.usage ?? null,
      timings: outcome.timings ?? null,
      steps: outcome.steps ?? null,
      stepsOmitted: outcome.stepsOmitted ?? null,
      text: outcome.text ?? null,
      messageId: outcome.messageId ?? null,
      endSeq: outcome.endSeq ?? null,
    });
    return rows.length > 0;
  }

  async get(tenantId: string, runId: string): Promise<RunRecord | null> {
    const [row] = await this.db
      .select()
      .from(agentRuns)
      .where(and(eq(agentRuns.runId, runId), eq(agentRuns.tenantId, tenantId)));
    return row ? toRecord(row) : null;
  }

  /** Newest first, keyset-paged on (created_at, run_id); a filter's cursor pages that filter (it carries only the position). */
  async list(tenantId: string, q: RunFilter & { cursor?: string | undefined; limit: number }) {
    const where: SQL[] = [eq(agentRuns.tenantId, tenantId)];
    if (q.conversationId !== undefined) where.push(eq(agentRuns.conversationId, q.conversationId));
    if (q.status !== undefined) where.push(eq(agentRuns.status, q.status));
    if (q.flow !== undefined) where.push(eq(agentRuns.flow, q.flow));
    if (q.agentId !== undefined) where.push(eq(agentRuns.agentId, q.agentId));
    if (q.owner !== undefined) {
      where.push(eq(agentRuns.ownerId, q.owner.id));
      where.push(q.owner.kind === 'contact' ? eq(agentRuns.channel, 'chatwoot') : ne(agentRuns.channel, 'chatwoot'));
    }
    const after = q.cursor ? decodeCursor(q.cursor) : null;
    if (q.cursor && !after) throw new ActionError('invalid_payload', 'cursor is not one this list gave', { details: { fields: ['cursor'] } });
    if (after) {
      const at = new Date(after.at);
      const older = or(lt(agentRuns.createdAt, at), and(eq(agentRuns.createdAt, at), lt(agentRuns.runId, after.runId)));
      if (older) where.push(older);
    }
    const rows = await this.db
      .select()
      .from(agentRuns)
      .where(and(...where))
      .orderBy(desc(agentRuns.createdAt), desc(agentRuns.runId))
      .limit(q.limit + 1);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > q.limit && last ? encodeCursor(last.createdAt.toISOString(), last.runId) : null;
    return { items: page.map(toRecord), nextCursor };
  }
}

function encodeCursor(at: string, runId: string): string {
  return Buffer.from(JSON.stringify({ at, runId })).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; runId: string } | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (v && typeof v === 'object' && 'at' in v && 'runId' in v && typeof v.at === 'string' && typeof v.runId === 'string' && !Number.isNaN(Date.parse(v.at)))
      return { at: v.at, runId: v.runId };
  } catch {
    // not a cursor this list made: the caller is told (400), not given the first page again
  }
  return null;
}
