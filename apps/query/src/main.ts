// The query service: knowledge base ingest, hybrid search and grounded answers (README.md).
import { runService } from '@parley/service-kit';
import { createQueryDeps } from './deps.js';
import { env, queryModelProblems } from './env.js';
import { queryHandlers } from './handlers/index.js';

const parsed = env.parse('query');
if (parsed.ok) {
  const problems = queryModelProblems(parsed.config);
  if (problems.length > 0) {
    process.stderr.write(`query: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}\n`).join('')}`);
    process.exit(1);
  }
}

await runService({
  name: 'query',
  env,
  service: 'query',
  worker: parsed.ok ? { concurrency: parsed.config.worker.concurrency } : {},
  handlers: async (kit) => queryHandlers(await createQueryDeps(kit)),
});
