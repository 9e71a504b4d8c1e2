// A worker in its own process, for tests that kill it and for the benchmark.
import { testRedisTarget } from '@parley/testing/env';
import { createBus } from '../bus.js';
import { commandConnection } from '../connection.js';
import { echoCatalog, echoHandlers } from './echo-catalog.js';

const prefix = process.env.BUS_PREFIX ?? 'parley';
// REDIS_URL, or the test run's cluster (PARLEY_TEST_REDIS_CLUSTER, inherited from the test process).
const target = testRedisTarget();
const instance = process.env.INSTANCE_ID ?? `echo-worker-${process.pid}`;
const concurrency = Number(process.env.CONCURRENCY ?? 64);

const bus = createBus({ catalog: echoCatalog, redis: target, prefix, service: 'echo', instance });
const side = commandConnection(target, `${instance}:side`);
const worker = bus.handle('echo', echoHandlers(side, prefix, instance), { concurrency, batchSize: concurrency });

const stop = async () => {
  await worker.stop(5_000);
  await bus.close();
  side.disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
console.log(`echo worker ready ${instance}`);
