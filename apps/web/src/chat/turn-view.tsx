import type { JSX } from 'preact';
import { Markdown } from '../markdown/markdown.js';
import { StepTimeline } from './step-timeline.js';
import type { Turn } from './transcript.js';

export function TurnView({ turn }: { turn: Turn }): JSX.Element {
  const who = turn.role === 'user' ? 'You' : turn.role === 'assistant' ? 'Agent' : turn.role === 'human' ? (turn.author ?? 'Support') : 'System';
  if (turn.role === 'marker')
    return (
      <p class="turn turn-marker note" role="status">
        {turn.text}
      </p>
    );
  return (
    <article class={`turn turn-${turn.role}`} data-status={turn.status} data-run-id={turn.runId} aria-busy={turn.status === 'streaming'}>
      <h3 class="visually-hidden">{who}</h3>
      {turn.role === 'human' && <p class="author">{who}</p>}
      {turn.steps.length > 0 && <StepTimeline steps={turn.steps} live={turn.status === 'streaming'} />}
      {(turn.text || turn.status === 'streaming') && (
        <div class="bubble">
          {turn.role === 'user' ? <p class="plain">{turn.text}</p> : <Markdown text={turn.text} />}
          {turn.status === 'streaming' && <span class="caret" aria-label="writing" />}
        </div>
      )}
      {turn.error && (
        <p class={turn.status === 'cancelled' ? 'note' : 'error'} role={turn.status === 'failed' ? 'alert' : undefined}>
          {turn.error}
        </p>
      )}
    </article>
  );
}
