import type { ServerFrame } from '@parley/contracts';

export type AgentMessage = Extract<ServerFrame, { type: 'agent.message' }>;
export type AgentError = Extract<ServerFrame, { type: 'agent.error' }>;
/** What a run streams: tokens and steps, then exactly one agent.message or agent.error. */
export type RunFrame = Extract<ServerFrame, { type: 'agent.token' | 'agent.step' | 'agent.message' | 'agent.error' }>;

export class RunFailedError extends Error {
  constructor(
    readonly runId: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RunFailedError';
  }
}

/**
 * One run's events, in order, each seq once, across reconnects (the client resumes from `lastSeq`).
 * Iterate it, or await `result()`; both can be used together.
 */
export class RunStream implements AsyncIterable<RunFrame> {
  lastSeq: number;
  done = false;
  private readonly buffer: RunFrame[] = [];
  private readonly waiters: Array<(r: IteratorResult<RunFrame>) => void> = [];
  private readonly final: Promise<AgentMessage>;
  private resolveFinal!: (m: AgentMessage) => void;
  private rejectFinal!: (e: Error) => void;
  /** Everything streamed so far, concatenated: what a UI shows while tokens arrive. */
  text = '';

  constructor(
    readonly runId: string,
    readonly conversationId: string | null,
    lastSeq: number,
    private readonly cancelFn: (runId: string) => void,
  ) {
    this.lastSeq = lastSeq;
    this.final = new Promise<AgentMessage>((resolve, reject) => {
      this.resolveFinal = resolve;
      this.rejectFinal = reject;
    });
    this.final.catch(() => {
      // a caller that only iterates must not see an unhandled rejection
    });
  }

  /** @internal Called by the client for every frame of this run. */
  push(f: RunFrame): void {
    if (this.done) return;
    const seq: number | undefined = f.seq;
    if (seq !== undefined) {
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
    }
    if (f.type === 'agent.token') this.text += f.delta;
    if (f.type === 'agent.message' || f.type === 'agent.error') {
      this.done = true;
      if (f.type === 'agent.message') this.resolveFinal(f);
      else this.rejectFinal(new RunFailedError(this.runId, f.code, f.message));
    }
    const w = this.waiters.shift();
    if (w) w({ value: f, done: false });
    else this.buffer.push(f);
    if (this.done) for (const w2 of this.waiters.splice(0)) w2({ value: undefined, done: true });
  }

  /** @internal The client gave up (closed for good). */
  abort(reason: Error): void {
    if (this.done) return;
    this.done = true;
    this.rejectFinal(reason);
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  result(): Promise<AgentMessage> {
    return this.final;
  }

  cancel(): void {
    this.cancelFn(this.runId);
  }

  [Symbol.asyncIterator](): AsyncIterator<RunFrame> {
    return {
      next: () => {
        const f = this.buffer.shift();
        if (f) return Promise.resolve({ value: f, done: false });
        if (this.done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
