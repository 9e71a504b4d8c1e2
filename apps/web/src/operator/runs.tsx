import { RunStatus, type RunRecord } from '@parley/contracts';
import { ApprovalCard, pendingApproval, type Decide } from '../ui/approval-card.js';
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, client, unwrap } from '../lib/api.js';
import { href, navigate } from '../lib/router.js';
import { useRunEvents } from '../lib/run-events.js';
import { useAsync } from '../lib/use-async.js';
import { recentRuns } from '../lib/recent-runs.js';
import { CopyButton } from '../ui/copy-button.js';
import { shortDate, shortId } from '../lib/format.js';
import { RunView } from '../ui/run-view.js';

export function RunsPage({ runId }: { runId: string | null }): JSX.Element {
  return runId ? <RunDetail runId={runId} /> : <RunList />;
}

function RunList(): JSX.Element {
  const [status, setStatus] = useState('');
  const [open, setOpen] = useState('');
  // GET /api/v1/runs may not exist on every gateway; without it the list is this browser's runs.
  const list = useAsync(() => unwrap(client.GET('/api/v1/runs', { params: { query: { status: RunStatus.safeParse(status).data, limit: 50 } } })), [status]);
  const missing = list.error instanceof ApiError && (list.error.status === 404 || list.error.status === 405);
  return (
    <section aria-labelledby="runs-h">
      <h1 id="runs-h">Runs</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (open.trim()) navigate(`/ops/runs/${open.trim()}`);
        }}
      >
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)} disabled={missing}>
            <option value="">any</option>
            {RunStatus.options.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Open a run by id
          <input value={open} onInput={(e) => setOpen(e.currentTarget.value)} placeholder="run id" />
        </label>
        <button type="submit">Open</button>
      </form>
      {list.error && !missing && (
        <p role="alert" class="error">
          {list.error.message}
        </p>
      )}
      {list.data && <RunTable runs={list.data.items} />}
      {missing && (
        <>
          <p class="muted">This gateway has no run list; these are the runs started from this browser. Transcripts link each answer to its run.</p>
          <ul class="plain-list">
            {recentRuns().map((r) => (
              <li key={r.runId}>
                <a href={href(`/ops/runs/${r.runId}`)}>{r.label}</a> <span class="muted">{new Date(r.at).toLocaleString()}</span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function RunTable({ runs }: { runs: RunRecord[] }): JSX.Element {
  if (runs.length === 0) return <p class="muted">No runs.</p>;
  return (
    <div class="table-wrap">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Flow</th>
            <th scope="col">Agent</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.runId}>
              <td class="run-id">
                <a href={href(`/ops/runs/${r.runId}`)} title={r.runId}>
                  <code>{shortId(r.runId)}</code>
                </a>
                <CopyButton value={r.runId} label={`Copy run id ${r.runId}`} />
              </td>
              <td>{r.flow}</td>
              <td>{r.agentId}</td>
              <td>{r.channel}</td>
              <td>
                <span class={`pill pill-${r.status.toLowerCase()}`}>{r.status}</span>
              </td>
              <td class="num">{r.usage?.totalTokens ?? '—'}</td>
              <td>{shortDate(r.startedAt ?? r.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunDetail({ runId }: { runId: string }): JSX.Element {
  const rec = useAsync(() => unwrap(client.GET('/api/v1/runs/{id}', { params: { path: { id: runId } } })), [runId]);
  const { snap, error } = useRunEvents(runId);
  const r = rec.data;
  const took = r?.startedAt && r.finishedAt ? Date.parse(r.finishedAt) - Date.parse(r.startedAt) : null;
  return (
    <section aria-labelledby="run-h">
      <p>
        <a href={href('/ops/runs')}>← Runs</a>
      </p>
      <h1 id="run-h">
        Run <code title={runId}>{shortId(runId)}</code>
        <CopyButton value={runId} label="Copy run id" />
      </h1>
      {rec.error && (
        <p role="alert" class="error">
          {rec.error.message}
        </p>
      )}
      {r && (
        <dl class="facts">
          <dt>Flow</dt>
          <dd>{r.flow}</dd>
          <dt>Agent</dt>
          <dd>{r.agentId}</dd>
          <dt>Channel</dt>
          <dd>{r.channel}</dd>
          {r.conversationId && (
            <>
              <dt>Conversation</dt>
              <dd>
                <a href={href(`/ops/conversations/${r.conversationId}`)} title={r.conversationId}>
                  {shortId(r.conversationId)}
                </a>
              </dd>
            </>
          )}
          <dt>Tokens</dt>
          <dd>{r.usage ? `${r.usage.totalTokens} (${r.usage.promptTokens} prompt, ${r.usage.completionTokens} completion)` : '—'}</dd>
          <dt>Duration</dt>
          <dd>{took === null ? '—' : `${took} ms`}</dd>
          {r.error && (
            <>
              <dt>Error</dt>
              <dd class="error">
                {r.error.code}: {r.error.message}
              </dd>
            </>
          )}
        </dl>
      )}
      {snap?.status === 'PAUSED' && <PausedCard runId={runId} steps={snap.step_results} />}
      <h2>Timeline</h2>
      {error && <p class="muted">{error}</p>}
      {snap ? <RunView snap={snap} /> : !error && <p class="muted">Loading events…</p>}
    </section>
  );
}

/** A run paused for an approval: staff (who see this page) may decide whatever the agent's approver is. */
function PausedCard({ runId, steps }: { runId: string; steps: Parameters<typeof pendingApproval>[0] }): JSX.Element | null {
  const ask = pendingApproval(steps);
  if (!ask) return null;
  const decide: Decide = async (decision, extra) => {
    try {
      await unwrap(client.POST('/api/v1/runs/{id}/approval', { params: { path: { id: runId } }, body: { approvalId: ask.approvalId, decision, ...extra } }));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  return <ApprovalCard key={ask.approvalId} ask={ask} canDecide decide={decide} />;
}
