// The conversation service: hot memory, token-budgeted context, history, CRM reads, stats. Wiring only.
import { runService } from '@parley/service-kit';
import { env } from './env.js';
import { wire } from './wiring.js';

await runService({ name: 'conversation', env, service: 'conversation', worker: { concurrency: 64 }, handlers: wire });
