import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Lets long CPU work (chunking a megabyte, building big inserts) give the event loop back every few
 * milliseconds, so searches and bus heartbeats handled by the same process are not starved.
 */
export interface Yielder {
  maybeYield(): Promise<void>;
}

export function createYielder(sliceMs = 8): Yielder {
  let since = performance.now();
  return {
    async maybeYield() {
      if (performance.now() - since < sliceMs) return;
      await nextTurn();
      since = performance.now();
    },
  };
}
