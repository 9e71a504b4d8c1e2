/**
 * `npm run redis-cluster`: a throwaway Redis Cluster (3 masters, 3 replicas) from the machine's own
 * redis-server on free loopback ports, nothing persisted, until Ctrl-C / SIGTERM. `npm start --
 * --redis-cluster` runs it for the platform. Prints `REDIS_CLUSTER_NODES=<seeds>` once it serves.
 */
import { startRedisCluster } from '../packages/testing/src/redis-cluster.js';

const cluster = await startRedisCluster();
console.log(`REDIS_CLUSTER_NODES=${cluster.nodesEnv}`);
console.log('3 masters + 3 replicas on loopback; Ctrl-C stops them (nothing is kept)');
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void cluster.stop().then(() => process.exit(0));
  });
}
// Keeps the process alive until a signal: the nodes are its children.
setInterval(() => {}, 1 << 30);
