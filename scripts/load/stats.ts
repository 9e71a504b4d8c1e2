// What the simulated users measured: turn counts, latencies, and errors by code.
import { percentiles } from '../../bench/lib/results.js';

export class LoadStats {
  started = 0;
  completed = 0;
  /** Completed turns that ended inside the measured window (what turns/s counts). */
  completedInWindow = 0;
  toolTurns = 0;
  readonly acceptMs: number[] = [];
  readonly firstTokenMs: number[] = [];
  readonly fullTurnMs: number[] = [];
  readonly errors = new Map<string, number>();

  constructor(readonly windowEnd: number) {}

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  done(fullMs: number, firstTokenMs: number | undefined, usedTool: boolean): void {
    this.completed++;
    if (performance.now() <= this.windowEnd) this.completedInWindow++;
    this.fullTurnMs.push(fullMs);
    if (firstTokenMs !== undefined) this.firstTokenMs.push(firstTokenMs);
    if (usedTool) this.toolTurns++;
  }

  failed(): number {
    return [...this.errors.values()].reduce((a, b) => a + b, 0);
  }

  summary(windowS: number): Record<string, number> {
    const first = percentiles(this.firstTokenMs);
    const full = percentiles(this.fullTurnMs);
    const accept = percentiles(this.acceptMs);
    return {
      turns_per_s: this.completedInWindow / windowS,
      turns_started: this.started,
      turns_completed: this.completed,
      turns_failed: this.failed(),
      tool_turns: this.toolTurns,
      accept_p50_ms: accept.p50,
      first_token_p50_ms: first.p50,
      first_token_p99_ms: first.p99,
      full_turn_p50_ms: full.p50,
      full_turn_p99_ms: full.p99,
    };
  }

  errorsLine(): string {
    return this.errors.size ? [...this.errors].map(([code, n]) => `${code} ×${n}`).join(', ') : 'none';
  }
}
