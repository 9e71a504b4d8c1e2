import type { TestProject } from 'vitest/node';
// Not '@parley/testing' itself: it imports vitest's test API, which cannot load in global setup.
import { startRedisCluster } from '../packages/testing/src/redis-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisClusterNodes: string;
  }
}

/**
 * Global setup of the `cluster` test project: one Redis Cluster (3 masters, 3 replicas) for the run's
 * cluster-mode files; tests/cluster-env.ts hands its seed nodes to each test process.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide('redisClusterNodes', cluster.nodesEnv);
  return () => cluster.stop();
}
