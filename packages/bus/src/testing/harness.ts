import { onTestFinished } from 'vitest';
import { testRedisTarget } from '@parley/testing';
import type { RedisClient } from '../connection.js';
import { createBus, type BusOptions } from '../bus.js';
import type { Bus } from '../types.js';
import { echoCatalog, echoHandlers, type EchoCatalog, type EchoProbe } from './echo-catalog.js';
import type { AnyCatalog } from '@parley/contracts';

/** A bus closed automatically at the end of the test. */
export function testBus<C extends AnyCatalog = EchoCatalog>(prefix: string, opts: Partial<BusOptions<C>> = {}): Bus<C> {
  const bus = createBus<C>({ catalog: echoCatalog as unknown as C, redis: testRedisTarget(), prefix, service: 'test', ...opts });
  onTestFinished(() => bus.close(500));
  return bus;
}

/** A bus with an echo worker; returns the probe to observe handler concurrency. */
export function echoWorker(prefix: string, redis: RedisClient, instance = 'w1', concurrency = 64) {
  const bus = testBus(prefix, { instance, service: 'echo' });
  const probe: EchoProbe = { active: 0, maxActive: 0, started: 0 };
  const worker = bus.handle('echo', echoHandlers(redis, prefix, instance, probe), { concurrency, batchSize: concurrency, graceMs: 2_000 });
  return { bus, worker, probe };
}

export const meta = { tenantId: 't1' };
