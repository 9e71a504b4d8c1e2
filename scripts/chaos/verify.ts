// The end-of-run checks: every accepted chat message has one user row and one answer in its
// conversation's history (asked through the bus, so hot and archived rows both count) or a failed
// run; no run left RUNNING or PENDING; dead letters listed with their reasons.
import type pg from 'pg';
import { listDeadLetters, type Bus, type RedisClient } from '@parley/bus';
import { runAnswerMessageId, type Catalog, type HistoryMessage } from '@parley/contracts';
import type { Accepted } from '../load/user.js';

export interface Verdict {
  counts: Record<string, number>;
  violations: string[];
}

export interface Letter {
  service: string;
  type: string;
  code: string;
  reason: string;
  /** The run the action was about (agent.run's correlation id is its run id). */
  runId: string | null;
}

/** Every dead letter of every service, with the run it belongs to when there is one. */
export async function deadLetters(redis: RedisClient, prefix: string, services: string[]): Promise<Letter[]> {
  const out: Letter[] = [];
  for (const service of services) {
    for (const d of await listDeadLetters(redis, prefix, service, 1000)) {
      let runId: string | null = null;
      try {
        const a = JSON.parse(d.raw) as { correlationId?: string; data?: { runId?: string } };
        runId = a.data?.runId ?? a.correlationId ?? null;
      } catch {
        // a poison entry: no run to tie it to
      }
      out.push({ service, type: d.type, code: d.code, reason: d.reason, runId });
    }
  }
  return out;
}

/** Identical letters folded into one line with a count, reasons cut short: a table, not a wall. */
export function summarizeLetters(letters: Letter[]): string[] {
  const groups = new Map<string, number>();
  for (const l of letters) {
    const key = `${l.service}: ${l.type} ${l.code}: ${l.reason.split('\n')[0]!.slice(0, 140)}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `${n} × ${k}`);
}

async function fullHistory(bus: Bus<Catalog>, tenantId: string, conversationId: string): Promise<HistoryMessage[]> {
  const out: HistoryMessage[] = [];
  let before: number | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await bus
      .call('conversation.get_history', { conversationId, limit: 200, ...(before ? { before } : {}) }, { tenantId }, { timeoutMs: 15_000 })
      // A conversation whose first message never got saved does not exist: its history is empty.
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'not_found') return { messages: [], hasMore: false };
        throw err;
      });
    out.unshift(...r.messages);
    if (!r.hasMore || r.messages.length === 0) break;
    before = r.messages[0]!.seq;
  }
  return out;
}

export async function verify(o: {
  bus: Bus<Catalog>;
  db: pg.Client;
  redis: RedisClient;
  prefix: string;
  services: string[];
  accepted: Accepted[];
}): Promise<Verdict> {
  const violations: string[] = [];
  const byId = new Map<string, Accepted>();
  for (const a of o.accepted) {
    const seen = byId.get(a.id);
    if (seen && seen.runId !== a.runId) violations.push(`chat message ${a.id} was accepted as two runs (${seen.runId}, ${a.runId})`);
    byId.set(a.id, a);
  }
  const runs = [...byId.values()];
  const statusRows = await o.db.query<{ run_id: string; status: string; code: string | null }>(
    `select run_id, status, error->>'code' as code from agent_runs where run_id = any($1)`,
    [runs.map((r) => r.runId)],
  );
  const status = new Map(statusRows.rows.map((r) => [r.run_id, r]));
  const convs = new Map<string, Accepted[]>();
  for (const r of runs) convs.set(r.conversationId, [...(convs.get(r.conversationId) ?? []), r]);

  const counts = {
    accepted: runs.length,
    conversations: convs.size,
    answered: 0,
    answered_but_run_failed: 0,
    failed_recorded: 0,
    user_rows: 0,
    answer_rows: 0,
    missing_run_record: 0,
  };
  for (const [conversationId, list] of convs) {
    const history = await fullHistory(o.bus, list[0]!.tenantId, conversationId);
    for (const r of list) {
      const users = history.filter((m) => m.role === 'user' && m.runId === r.runId).length;
      const answers = history.filter((m) => m.messageId === runAnswerMessageId(r.runId)).length;
      counts.user_rows += users;
      counts.answer_rows += answers;
      const st = status.get(r.runId);
      if (!st) counts.missing_run_record++;
      const failed = st?.status === 'FAILED' || st?.status === 'CANCELLED';
      if (users > 1) violations.push(`run ${r.runId}: ${users} user rows`);
      if (answers > 1) violations.push(`run ${r.runId}: ${answers} answer rows`);
      if (users === 1 && answers === 1) {
        counts.answered++;
        // The answer was saved but the run was then failed (worker_lost on a redelivery): the user saw an error and the history shows an answer.
        if (failed) counts.answered_but_run_failed++;
      } else if (failed) counts.failed_recorded++;
      else
        violations.push(
          `run ${r.runId} (conversation ${conversationId}): ${users} user row(s), ${answers} answer row(s), run ${st ? st.status : 'not recorded'}`,
        );
    }
  }

  const stuck = await o.db.query<{ status: string; n: string }>(
    `select status, count(*)::text as n from agent_runs where status in ('RUNNING', 'PENDING') group by status`,
  );
  for (const row of stuck.rows) violations.push(`${row.n} run(s) left ${row.status}`);
  const byStatus = await o.db.query<{ status: string; n: string }>(`select status, count(*)::text as n from agent_runs group by status order by status`);
  const failCodes = await o.db.query<{ code: string; n: string }>(
    `select coalesce(error->>'code', '?') as code, count(*)::text as n from agent_runs where status = 'FAILED' group by 1 order by 2 desc`,
  );

  const left = await deadLetters(o.redis, o.prefix, o.services);
  for (const line of summarizeLetters(left)) violations.push(`dead letter left: ${line}`);
  return {
    counts: {
      ...counts,
      ...Object.fromEntries(byStatus.rows.map((r) => [`runs_${r.status}`, Number(r.n)])),
      ...Object.fromEntries(failCodes.rows.map((r) => [`failed_${r.code}`, Number(r.n)])),
      dead_letters_left: left.length,
    },
    violations,
  };
}
