// The worker side of the bus benchmark, in its own process: `bus` (the real bus) or `raw` (baseline).
// With REDIS_CLUSTER_NODES (the bus mode only), the worker runs on that Redis Cluster, as a service would.
import { Redis } from 'ioredis';
import { clusterTarget, commandConnection, createBus } from '@parley/bus';
import { echoCatalog, echoHandlers } from '../packages/bus/src/testing/echo-catalog.js';

const [mode = 'bus', prefix = 'bench'] = process.argv.slice(2);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clusterNodes = process.env.REDIS_CLUSTER_NODES;

if (mode === 'bus') {
  const target = clusterNodes ? clusterTarget(clusterNodes) : url;
  const bus = createBus({ catalog: echoCatalog, redis: target, prefix, service: 'echo', instance: `bench-worker-${process.pid}` });
  const side = commandConnection(target, 'bench-worker-side');
  bus.handle('echo', echoHandlers(side, prefix, 'bench'), { concurrency: 512, batchSize: 256 });
  process.on('SIGTERM', () => void bus.close(1_000).then(() => process.exit(0)));
  console.log('bench worker ready');
} else {
  // Raw ioredis: XREADGROUP → XADD reply + XACK, no envelope, no validation.
  const read = new Redis(url);
  const cmd = new Redis(url, { enableAutoPipelining: true });
  const stream = `${prefix}:raw:req`;
  await cmd.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM').catch(() => {
    /* BUSYGROUP: the group exists already */
  });
  let running = true;
  process.on('SIGTERM', () => ((running = false), process.exit(0)));
  console.log('bench worker ready');
  while (running) {
    const res = (await read.xreadgroup('GROUP', 'g', 'c', 'COUNT', 256, 'BLOCK', 1000, 'STREAMS', stream, '>')) as Array<
      [string, Array<[string, string[]]>]
    > | null;
    const entries = res?.[0]?.[1];
    if (!entries) continue;
    const ids: string[] = [];
    for (const [id, f] of entries) {
      ids.push(id);
      void cmd.xadd(f[1]!, '*', 'c', f[3]!);
    }
    void cmd.xack(stream, 'g', ...ids);
  }
}
