// The agent-execution service: runs agents and flows on the `agent` stream (README.md). Wiring only.
import { runService } from '@parley/service-kit';
import { env } from './env.js';
import { SERVICE_NAME, startAgentService } from './wiring.js';

await runService({ name: SERVICE_NAME, env, service: 'agent', worker: (config) => ({ concurrency: config.runs.concurrency }), handlers: startAgentService });
