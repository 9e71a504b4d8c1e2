// The lint half of the gate (`npm run lint`): typed rules that catch what the compiler lets through.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import noSilentCatch from './tooling/no-silent-catch.js';
import { PROGRAMS } from './scripts/typecheck-programs.mjs';

/** Only env modules read process.env: configuration is parsed, validated and reported in one place. */
const ENV_READERS = [
  '**/env.ts',
  '**/main.ts',
  'tests/**',
  'scripts/**',
  'bench/**',
  '**/*.test.ts',
  '**/testing/**',
  '**/test-fixtures/**',
  '**/test-support/**',
  'packages/testing/**',
  'packages/db/src/migrate-cli.ts',
  '*.config.ts',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'tests/artifacts/**', 'bench/results/**', '**/*.d.mts', 'apps/web/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      // The typecheck's four programs, not one per package tsconfig (the project service's choice): every file is
      // typed in the environment it is checked in, and lint holds four programs in memory instead of seventeen.
      parserOptions: { project: PROGRAMS, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    plugins: { parley: { rules: { 'no-silent-catch': noSilentCatch } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'parley/no-silent-catch': 'error',
      // Input hygiene matches control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  // Plain JavaScript (launcher, configs) is in no tsconfig: checked without types.
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ENV_READERS,
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration in the env module and pass it down.' }],
    },
  },
  // The web app and browser tests run in a page.
  { files: ['apps/web/src/**', 'apps/web/test-support/**', 'tests/browser/**'], languageOptions: { globals: { ...globals.browser } } },
  // Parsed compose and Kubernetes YAML is walked freely; the kubernetes-models classes check its shape.
  { files: ['tests/infra-*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
