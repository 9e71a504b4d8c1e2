import { describe, expect, it } from 'vitest';
import { createLimiter } from './limiter.js';

describe('createLimiter', () => {
  it('never runs more than the limit, in arrival order', async () => {
    const limiter = createLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(limiter.active()).toBe(0);
  });

  it('lets a waiter give up on abort', async () => {
    const limiter = createLimiter(1);
    let release!: () => void;
    const first = limiter.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    const second = limiter.run(async () => 'ran', ac.signal);
    ac.abort(new Error('gone'));
    await expect(second).rejects.toThrow('gone');
    release();
    await first;
    expect(limiter.waiting()).toBe(0);
    expect(limiter.active()).toBe(0);
  });
});
