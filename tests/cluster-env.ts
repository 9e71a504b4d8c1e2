import { afterAll, expect, inject } from 'vitest';
import { redisRoutingErrors } from '@parley/testing';
import type {} from './cluster-setup.js'; // ProvidedContext's redisClusterNodes

// The cluster project's test processes (and what they spawn, which inherits the environment) use the run's cluster.
process.env.PARLEY_TEST_REDIS_CLUSTER = inject('redisClusterNodes');

// Code that works on one node can fail on a cluster only in a log line (a warning and a retry): a file whose
// processes printed a CROSSSLOT or MOVED error fails here.
afterAll(() => {
  expect(redisRoutingErrors(), 'Redis Cluster routing errors in the logs').toEqual([]);
});
