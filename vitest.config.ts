import { defineConfig } from 'vitest/config';

// One run for the whole repo; internal packages resolve to their TypeScript source.
const conditions = ['@parley/source', 'node', 'import', 'default'];

/** The suites that run against a Redis Cluster as well as the single node. */
// The suites that run against a Redis Cluster as well (the same tests, the `cluster` project): the bus, the
// conversation store, the run-log tailer, the gateway's chat turn end to end and resume across replicas, Chatwoot.
const CLUSTER_FILES = [
  'packages/bus/src/**/*.test.ts',
  'packages/conversation-store/src/**/*.test.ts',
  'apps/gateway/src/runs/run-log-tailer.test.ts',
  'tests/gateway-chat.test.ts',
  'tests/gateway-replicas.test.ts',
  'tests/chatwoot-webhook.test.ts',
];

export default defineConfig({
  resolve: { conditions },
  // Vitest hands ssr conditions to the test processes as node --conditions flags. 'import' there makes
  // node's own require() pick ESM builds of CJS deps (pg requiring pg-pool's .mjs breaks `class extends`).
  ssr: { resolve: { conditions: ['@parley/source', 'node', 'default'], externalConditions: ['@parley/source'] } },
  test: {
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    // Most test files wait on what they start (services, Redis, PostgreSQL, a browser), not on the CPU: on two cores two
    // workers left the machine 40 % idle over a whole run, so files run three at a time.
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./tests/global-setup.ts'],
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts', 'apps/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    projects: [
      { extends: true, test: { name: 'single', include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/**/*.test.ts'] } },
      // The same files again against a Redis Cluster (3 masters, 3 replicas) started for the run. A file joins once
      // what it tests takes a cluster client; its tests use redisModeTest (packages/testing) to be handed either.
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_FILES,
          // Appended to the root's global setup (vite merges arrays).
          globalSetup: ['./tests/cluster-setup.ts'],
          setupFiles: ['./tests/cluster-env.ts'],
          typecheck: { enabled: false },
        },
      },
    ],
  },
});
