// A worker in its own process, for tests that kill it and for the benchmark.
import { Redis } from 'ioredis';
import { createBus } from '../bus.js';
import { echoCatalog, echoHandlers } from './echo-catalog.js';

const prefix = process.env.BUS_PREFIX ?? 'parley';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const instance = process.env.INSTANCE_ID ?? `echo-worker-${process.pid}`;
const concurrency = Number(process.env.CONCURRENCY ?? 64);

const bus = createBus({ catalog: echoCatalog, redis: redisUrl, prefix, service: 'echo', instance });
const side = new Redis(redisUrl, { enableAutoPipelining: true });
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
