// The query service: knowledge base ingest, hybrid search and grounded answers (README.md). Wiring only.
import { runService } from '@parley/service-kit';
import { env } from './env.js';
import { wire } from './wiring.js';

await runService({ name: 'query', env, service: 'query', worker: (config) => ({ concurrency: config.worker.concurrency }), handlers: wire });
