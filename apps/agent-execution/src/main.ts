import { runService } from '@parley/service-kit';
import { assertModelConfigured, env } from './env.js';
import { SERVICE_NAME, startAgentService } from './wiring.js';

const preflight = assertModelConfigured(SERVICE_NAME);

await runService({
  name: SERVICE_NAME,
  env,
  service: 'agent',
  handlers: startAgentService,
  worker: { concurrency: preflight?.runs.concurrency ?? 64 },
});
