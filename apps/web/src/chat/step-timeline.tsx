import type { JSX } from 'preact';
import { summarize, type Step } from './transcript.js';

const ICON = { tool_call: '→', tool_result: '←', log: '•' } as const;

/** Tool calls and results of one answer, compact, newest last; progress as a bar while running. */
export function StepTimeline({ steps, live }: { steps: Step[]; live: boolean }): JSX.Element {
  const progress = [...steps].reverse().find((s) => s.progress !== undefined)?.progress;
  const calls = steps.filter((s) => s.kind === 'tool_call').length;
  const label = calls ? `${calls} tool call${calls === 1 ? '' : 's'}` : `${steps.length} step${steps.length === 1 ? '' : 's'}`;
  return (
    <details class="steps" open={live || undefined}>
      <summary>
        {label}
        {live && progress !== undefined && <progress max={100} value={progress} aria-label="Run progress" />}
      </summary>
      <ol class="timeline">
        {steps.map((s) => (
          <li key={`${s.seq}-${s.kind}-${s.name}`} class={`step step-${s.kind}`} data-kind={s.kind}>
            <span class="icon" aria-hidden="true">
              {ICON[s.kind]}
            </span>
            <span class="step-name">{s.name}</span>
            <span class="visually-hidden">{s.kind === 'tool_call' ? 'called with' : s.kind === 'tool_result' ? 'returned' : ''}</span>
            <code class="step-data">{summarize(s.data)}</code>
          </li>
        ))}
      </ol>
    </details>
  );
}
