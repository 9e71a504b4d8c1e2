import type { JSX } from 'preact';
import { Markdown } from '../markdown/markdown.js';
import { Citations } from './citations.js';
import { ApprovalCard, pendingApproval, type ApprovalAsk, type Decide } from '../ui/approval-card.js';
import { StepTimeline } from './step-timeline.js';
import type { Turn } from './transcript.js';

/** `staff`: the signed-in user is an operator or admin (may decide calls an agent leaves to operators). */
export function TurnView({ turn, staff = false, decide }: { turn: Turn; staff?: boolean; decide?: (runId: string, ask: ApprovalAsk) => Decide }): JSX.Element {
  const who = turn.role === 'user' ? 'You' : turn.role === 'assistant' ? 'Agent' : turn.role === 'human' ? (turn.author ?? 'Support') : 'System';
  if (turn.role === 'marker')
    return (
      <p class="turn turn-marker note" role="status">
        {turn.text}
      </p>
    );
  const ask = turn.status === 'streaming' && turn.runId && decide ? pendingApproval(turn.steps) : null;
  return (
    <article class={`turn turn-${turn.role}`} data-status={turn.status} data-run-id={turn.runId} aria-busy={turn.status === 'streaming'}>
      <h3 class="visually-hidden">{who}</h3>
      {turn.role === 'human' && <p class="author">{who}</p>}
      {turn.steps.length > 0 && <StepTimeline steps={turn.steps} live={turn.status === 'streaming'} />}
      {ask && turn.runId && decide && (
        <ApprovalCard key={ask.approvalId} ask={ask} canDecide={ask.approver === 'user' || staff} decide={decide(turn.runId, ask)} />
      )}
      {(turn.text || turn.status === 'streaming') && (
        <div class="bubble">
          {turn.role === 'user' ? <p class="plain">{turn.text}</p> : <Markdown text={turn.text} />}
          {turn.status === 'streaming' && <span class="caret" aria-label="writing" />}
        </div>
      )}
      {turn.role === 'assistant' && turn.status === 'done' && <Citations steps={turn.steps} />}
      {turn.error && (
        <p class={turn.status === 'cancelled' ? 'note' : 'error'} role={turn.status === 'failed' ? 'alert' : undefined}>
          {turn.error}
        </p>
      )}
    </article>
  );
}
