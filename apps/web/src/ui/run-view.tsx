import type { JSX } from 'preact';
import { summarize } from '../chat/transcript.js';
import type { RunSnapshot } from '../lib/run-events.js';
import { Markdown } from '../markdown/markdown.js';

/** A run's state, progress, step timeline and result, from its SSE snapshot. */
export function RunView({ snap }: { snap: RunSnapshot }): JSX.Element {
  const final = snap.final_result as { text?: string | null; output?: unknown; error?: { code: string; message: string } } | null;
  return (
    <div class="run" data-state={snap.state}>
      <p class="run-state" role="status">
        {/* One pill: the run's own status (SUCCEEDED, CANCELLED…) where the stream has it, else the stream's state. */}
        <span class={`pill pill-${(snap.status || snap.state).toLowerCase()}`} data-testid="run-status">
          {snap.status || snap.state}
        </span>
        {snap.progress !== null && <progress max={100} value={snap.progress} aria-label="Progress" />}
        {snap.progress !== null && <span class="muted"> {Math.round(snap.progress)}%</span>}
      </p>
      {snap.step_results.length > 0 && (
        <ol class="timeline" aria-label="Steps">
          {snap.step_results.map((s) => (
            <li key={s.seq} class={`step step-${s.kind}`} data-kind={s.kind}>
              <span class="seq">#{s.seq}</span>
              <span class="step-name">{s.name}</span>
              {s.progress !== undefined && <span class="muted">{s.progress}%</span>}
              <code class="step-data">{summarize(s.data)}</code>
            </li>
          ))}
        </ol>
      )}
      {snap.state !== 'SUCCESS' && snap.text && (
        <div class="bubble">
          <Markdown text={snap.text} />
        </div>
      )}
      {final?.error && (
        <p class="error" role="alert">
          {final.error.code}: {final.error.message}
        </p>
      )}
      {snap.state === 'SUCCESS' && (
        <div class="result" aria-label="Result">
          <h3>Result</h3>
          {final?.text && <Markdown text={final.text} />}
          {final?.output !== undefined && final.output !== null && <pre class="json">{JSON.stringify(final.output, null, 2)}</pre>}
        </div>
      )}
    </div>
  );
}
