import type { RunEvent, StoredRunStep } from '@parley/contracts';

/** Steps kept with a run's record; a run that emits more keeps its first ones and counts the rest (stepsOmitted). */
export const MAX_KEPT_STEPS = 200;
/** A step's `data` larger than this (as JSON) is kept as `{ truncated: true, bytes }`. */
export const MAX_STEP_DATA_BYTES = 8 * 1024;
/** All kept `data` of one run together; steps past it keep kind, name and progress, and their data as the marker. */
export const MAX_RUN_STEP_DATA_BYTES = 256 * 1024;

/**
 * The `run.step` events of one run, bounded, to be written with its final status (agent_runs.steps): the
 * event log expires after RUN_EVENT_LOG_TTL_MS, the record is kept, so SSE and GET replay the steps from here.
 * Tokens are not kept (the final text is). Data that PostgreSQL's jsonb cannot hold (a NUL character) is replaced
 * by the marker as well.
 */
export class RunSteps {
  private readonly kept: StoredRunStep[] = [];
  private omitted = 0;
  private dataBytes = 0;

  add(e: Extract<RunEvent, { type: 'run.step' }>): void {
    if (this.kept.length >= MAX_KEPT_STEPS) {
      this.omitted += 1;
      return;
    }
    const step: StoredRunStep = { seq: e.seq, at: e.at, kind: e.kind, name: e.name };
    if (e.data !== undefined) step.data = this.bounded(e.data);
    if (e.progress !== undefined) step.progress = e.progress;
    this.kept.push(step);
  }

  get steps(): StoredRunStep[] {
    return this.kept;
  }

  get omittedCount(): number {
    return this.omitted;
  }

  private bounded(data: unknown): unknown {
    let json: string | undefined;
    try {
      json = JSON.stringify(data);
    } catch {
      json = undefined;
    }
    if (json === undefined) return { truncated: true, bytes: 0 };
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_STEP_DATA_BYTES || this.dataBytes + bytes > MAX_RUN_STEP_DATA_BYTES || json.includes('\\u0000')) return { truncated: true, bytes };
    this.dataBytes += bytes;
    return JSON.parse(json) as unknown;
  }
}
