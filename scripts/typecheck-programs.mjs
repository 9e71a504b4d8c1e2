// The four TypeScript programs that give every file its right environment (Node services, tests and scripts; the web
// app; browser tests; benchmarks): the typecheck runs them and lint types each file with them.
export const PROGRAMS = ['tsconfig.json', 'apps/web/tsconfig.json', 'tests/browser/tsconfig.json', 'bench/tsconfig.json'];
