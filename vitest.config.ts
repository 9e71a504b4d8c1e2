import { defineConfig } from 'vitest/config';

// One run for the whole repo; internal packages resolve to their TypeScript source.
const conditions = ['@parley/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@parley/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'tests/browser/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['./tests/global-setup.ts'],
    typecheck: { enabled: true, include: ['packages/*/src/**/*.test-d.ts', 'apps/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
  },
});
