import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { Channel, StoredUsage } from './conversations.js';

export type RunStatus = 'PENDING' | 'RUNNING' | 'PAUSED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/**
 * What a PAUSED run needs to go on (agent-execution writes and reads it whole): the tool call it waits on, the
 * `agent.run` it was started with (notify included), the seq of its last event, and once decided, the decision.
 */
export interface RunPause {
  approval: { approvalId: string; tool: string; args: unknown; approver: 'user' | 'operator'; requestedAt: string; expiresAt: string };
  request: unknown;
  lastSeq: number;
  roles: string[];
  decision?: { decision: 'approve' | 'edit' | 'reject' | 'timeout' | 'cancel'; args?: Record<string, unknown>; reason?: string; by: string | null };
}

/** A `run.step` event kept with its run (contracts StoredRunStep; bounded by agent-execution). */
export interface StoredRunStep {
  seq: number;
  at: number;
  kind: 'log' | 'tool_call' | 'tool_result';
  name: string;
  data?: unknown;
  progress?: number;
}

/** Step timings of a run in ms (queue wait, context load, model, tools…), free-form per flow. */
export type RunTimings = Record<string, number>;

export const agentRuns = pgTable(
  'agent_runs',
  {
    runId: text('run_id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    agentId: text('agent_id').notNull(),
    /** The agent's version (agent_versions) the run was started with; null for runs recorded before versions were. */
    agentVersion: integer('agent_version'),
    flow: text('flow').notNull(),
    conversationId: text('conversation_id'),
    channel: text('channel').$type<Channel>().notNull(),
    /**
     * Who started the run (the action's userId): a user, or for channel `chatwoot` a contact. The
     * gateway authorizes reads of a run by tenant + owner; null for runs recorded before owners were.
     */
    ownerId: text('owner_id'),
    status: text('status').$type<RunStatus>().notNull().default('PENDING'),
    input: jsonb('input').$type<unknown>().notNull(),
    output: jsonb('output').$type<unknown>(),
    error: jsonb('error').$type<{ code: string; message: string }>(),
    usage: jsonb('usage').$type<StoredUsage>(),
    timings: jsonb('timings').$type<RunTimings>(),
    /** The run's steps, written with its final status: SSE and GET answer from here once the event log expired. Null before 0008. */
    steps: jsonb('steps').$type<StoredRunStep[]>(),
    /** Steps the run emitted beyond what is kept (0 when all are). */
    stepsOmitted: integer('steps_omitted'),
    /** A succeeded run's final text and answer message id (run.completed's). */
    text: text('text'),
    messageId: text('message_id'),
    /** The seq of the run's terminal event. */
    endSeq: integer('end_seq'),
    /** Set while a run is (or was last) paused for an approval; see RunPause. */
    pause: jsonb('pause').$type<RunPause>(),
    /** A PAUSED run fails with approval_timeout after this (the sweep reads the partial index below). */
    pauseExpiresAt: timestamp('pause_expires_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('agent_runs_tenant_created_idx').on(t.tenantId, t.createdAt.desc()),
    index('agent_runs_conversation_idx').on(t.conversationId),
    // A plain user's own runs (GET /runs), newest first, keyset-paged like the tenant index.
    index('agent_runs_tenant_owner_created_idx').on(t.tenantId, t.ownerId, t.createdAt.desc(), t.runId.desc()),
    // The approval-timeout sweep and "does this conversation wait on an approval": only paused runs are indexed.
    index('agent_runs_paused_idx')
      .on(t.pauseExpiresAt)
      .where(sql`${t.status} = 'PAUSED'`),
    index('agent_runs_paused_conversation_idx')
      .on(t.conversationId)
      .where(sql`${t.status} = 'PAUSED'`),
  ],
);
