import type { AbortReason } from './errors.js';

/**
 * One model call's cancellation: the caller's signal and our deadline feed one AbortController
 * that the SDK request listens to. The SDK sleeps between retries without watching its signal,
 * so `race` also settles our promise the moment the scope aborts instead of after the backoff.
 */
export class CallScope {
  readonly controller = new AbortController();
  reason: AbortReason | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #signal: AbortSignal | undefined;
  readonly #onCallerAbort = (): void => this.abort('cancelled');
  readonly #aborted: Promise<never>;
  #rejectAborted: ((reason: AbortReason) => void) | undefined;

  constructor(timeoutMs: number, signal?: AbortSignal) {
    this.#aborted = new Promise<never>((_, reject) => {
      this.#rejectAborted = reject;
    });
    this.#aborted.catch(() => {
      /* observed through race(); this only stops an unhandled rejection */
    });
    this.#timer = setTimeout(() => this.abort('timeout'), timeoutMs);
    this.#signal = signal;
    if (signal?.aborted) this.abort('cancelled');
    else signal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: AbortReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller.abort();
    this.#rejectAborted?.(reason);
  }

  /** Settles with `promise`, or rejects (with the abort reason) as soon as the scope aborts. */
  race<T>(promise: Promise<T>): Promise<T> {
    promise.catch(() => {
      /* the caller awaits the race, which carries this rejection */
    });
    return Promise.race([promise, this.#aborted]);
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onCallerAbort);
  }
}
