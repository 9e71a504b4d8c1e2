/**
 * Follows a run through the gateway's SSE endpoint. EventSource cannot send headers, so the token
 * goes in `?token=` (the gateway logs route patterns, never URLs). The stream ends after SUCCESS or
 * FAILURE; EventSource would reconnect to a finished stream, so it is closed at once.
 */
import { useEffect, useState } from 'preact/hooks';
import { session } from './auth.js';

export type RunState = 'PENDING' | 'PROGRESS' | 'SUCCESS' | 'FAILURE';

export interface RunSnapshot {
  runId: string;
  state: RunState;
  status: string;
  progress: number | null;
  step_results: Array<{ seq: number; kind: string; name: string; data?: unknown; progress?: number }>;
  final_result: unknown;
  /** Tokens streamed so far (the SSE events carry each token event). */
  text: string;
}

export function useRunEvents(runId: string | null): { snap: RunSnapshot | null; error: string | null } {
  const [snap, setSnap] = useState<RunSnapshot | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setSnap(null);
    setError(null);
    if (!runId) return;
    const token = session.get()?.token ?? '';
    const es = new EventSource(`/api/v1/runs/${encodeURIComponent(runId)}/events?token=${encodeURIComponent(token)}`);
    let text = '';
    let done = false;
    const on = (ev: MessageEvent<string>) => {
      const d = JSON.parse(ev.data) as Omit<RunSnapshot, 'text'> & { event?: { type: string; delta?: string } };
      if (d.event?.type === 'run.token' && d.event.delta) text += d.event.delta;
      setSnap({ runId: d.runId, state: d.state, status: d.status, progress: d.progress, step_results: d.step_results, final_result: d.final_result, text });
      if (d.state === 'SUCCESS' || d.state === 'FAILURE') {
        done = true;
        es.close();
      }
    };
    for (const name of ['PENDING', 'PROGRESS', 'SUCCESS', 'FAILURE']) es.addEventListener(name, on as EventListener);
    es.onerror = () => {
      // A finished run's stream ends; only a stream that never got going is an error.
      if (!done && es.readyState === EventSource.CLOSED) setError('could not follow the run (it may be unknown or expired)');
    };
    return () => es.close();
  }, [runId]);
  return { snap, error };
}
