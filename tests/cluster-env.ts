import { inject } from 'vitest';
import type {} from './cluster-setup.js'; // ProvidedContext's redisClusterNodes

// The cluster project's test processes (and what they spawn, which inherits the environment) use the run's cluster.
process.env.PARLEY_TEST_REDIS_CLUSTER = inject('redisClusterNodes');
