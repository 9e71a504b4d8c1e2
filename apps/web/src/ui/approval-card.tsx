import type { JSX } from 'preact';
import { useState } from 'preact/hooks';

/** What a paused run's `approval_requested` step says (agent-execution's PendingApproval). */
export interface ApprovalAsk {
  approvalId: string;
  tool: string;
  args: unknown;
  approver: 'user' | 'operator';
  expiresAt?: string;
}

export type Decide = (decision: 'approve' | 'edit' | 'reject', extra: { args?: Record<string, unknown>; reason?: string }) => Promise<string | null>;

interface StepLike {
  seq: number;
  kind: string;
  name: string;
  data?: unknown;
}

/** The approval a run still waits on: its last step asks, and nothing came after it. */
export function pendingApproval(steps: readonly StepLike[]): ApprovalAsk | null {
  const last = steps[steps.length - 1];
  if (!last || last.kind !== 'log' || last.name !== 'approval_requested') return null;
  const d = last.data as Partial<ApprovalAsk> | undefined;
  return d && typeof d.approvalId === 'string' && typeof d.tool === 'string' ? (d as ApprovalAsk) : null;
}

/**
 * The tool call a run waits on, with Approve / Edit / Reject for whoever may decide (`canDecide`); others read who it
 * waits for. Edit takes the arguments as JSON; the server checks them against the tool's schema and says which field
 * does not fit. `decide` answers an error message to show, or null once the decision is sent.
 */
export function ApprovalCard({ ask, canDecide, decide }: { ask: ApprovalAsk; canDecide: boolean; decide: Decide }): JSX.Element {
  const [mode, setMode] = useState<'view' | 'edit' | 'reject'>('view');
  const [args, setArgs] = useState(JSON.stringify(ask.args ?? {}, null, 2));
  const [reason, setReason] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const send = async (decision: 'approve' | 'edit' | 'reject', extra: { args?: Record<string, unknown>; reason?: string } = {}) => {
    setError(null);
    setSent(true);
    const problem = await decide(decision, extra);
    if (problem) {
      setSent(false);
      setError(problem);
    }
  };
  const sendEdit = () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      return setError('The arguments are not valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return setError('The arguments must be a JSON object.');
    void send('edit', { args: parsed as Record<string, unknown> });
  };
  return (
    <div class="card approval" role="group" aria-label={`Approval for ${ask.tool}`} data-approval-id={ask.approvalId}>
      <p>
        The agent wants to run <strong>{ask.tool}</strong> with:
      </p>
      <pre class="approval-args">{JSON.stringify(ask.args ?? {}, null, 2)}</pre>
      {!canDecide && <p class="note">Waiting for {ask.approver === 'operator' ? 'an operator' : 'the user'} to approve it.</p>}
      {canDecide && sent && <p class="note">Decision sent…</p>}
      {canDecide && !sent && mode === 'view' && (
        <div class="actions">
          <button type="button" onClick={() => void send('approve')}>
            Approve
          </button>
          <button type="button" class="ghost" onClick={() => setMode('edit')}>
            Edit
          </button>
          <button type="button" class="ghost" onClick={() => setMode('reject')}>
            Reject
          </button>
        </div>
      )}
      {canDecide && !sent && mode === 'edit' && (
        <div class="actions">
          <label>
            Arguments (JSON)
            <textarea rows={4} value={args} onInput={(e) => setArgs(e.currentTarget.value)} />
          </label>
          <button type="button" onClick={sendEdit}>
            Run with these arguments
          </button>
          <button type="button" class="ghost" onClick={() => setMode('view')}>
            Back
          </button>
        </div>
      )}
      {canDecide && !sent && mode === 'reject' && (
        <div class="actions">
          <label>
            Reason (told to the agent)
            <input value={reason} maxLength={2000} onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
          <button type="button" onClick={() => void send('reject', reason ? { reason } : {})}>
            Reject the call
          </button>
          <button type="button" class="ghost" onClick={() => setMode('view')}>
            Back
          </button>
        </div>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </div>
  );
}
