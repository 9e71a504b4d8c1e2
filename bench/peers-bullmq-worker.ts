// The BullMQ side of bench:peers, in its own process: a Worker that answers each job with its data.
import { Worker } from 'bullmq';

const [prefix = 'bench', queueName = 'echo'] = process.argv.slice(2);
const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
// BullMQ's blocking worker connection must retry forever (maxRetriesPerRequest null), or it throws on start.
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };

// Concurrency 64 at most is asked of it; 512 matches the bus worker, so neither side is the cap.
const worker = new Worker(
  queueName,
  async (job) => ({ n: (job.data as { n: number }).n, worker: `bullmq-${process.pid}`, traceId: job.id ?? '', tenantId: 'bench' }),
  {
    connection,
    prefix,
    concurrency: 512,
  },
);
await worker.waitUntilReady();
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
console.log('bench worker ready');
