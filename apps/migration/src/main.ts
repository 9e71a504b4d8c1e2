// The migration service: moves closed or idle conversations from Redis to PostgreSQL. Wiring only.
import { runService } from '@parley/service-kit';
import { env } from './env.js';
import { wire } from './wiring.js';

await runService({ name: 'migration', env, service: 'migration', handlers: wire });
