/** setTimeout fires at once for delays above 2^31-1 ms (~24.8 days): longer waits re-arm in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `onExpired` once at `at` (epoch ms), or at once if that has passed. Returns a cancel. */
export function atExpiry(at: number, onExpired: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const wait = at - Date.now();
    if (wait <= 0) return onExpired();
    timer = setTimeout(arm, Math.min(wait, MAX_DELAY_MS));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
