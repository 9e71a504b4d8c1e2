/**
 * At most `limit` holders at once; the rest wait in order. Ingestion is CPU and model heavy, so a
 * burst of uploads takes a few slots and leaves the bus worker's other slots to searches.
 */
export interface Limiter {
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  active(): number;
  waiting(): number;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];
  // The slot passes straight to the next waiter, so a newcomer cannot slip in between.
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  return {
    async run(fn, signal) {
      if (active >= limit) {
        await new Promise<void>((resolve, reject) => {
          const start = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = queue.indexOf(start);
            if (i >= 0) queue.splice(i, 1);
            reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted while waiting for an ingest slot'));
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          queue.push(start);
        });
      } else {
        active++;
      }
      try {
        return await fn();
      } finally {
        release();
      }
    },
    active: () => active,
    waiting: () => queue.length,
  };
}
