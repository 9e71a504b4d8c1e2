import { createModelClient, startDevModelServer } from '@parley/llm';
import { createPool } from '@parley/db';
import { runService, Stage } from '@parley/service-kit';
import { assertModelConfigured, env } from './env.js';
import { createAgentService } from './service.js';

const NAME = 'agent-execution';
const preflight = assertModelConfigured(NAME);

await runService({
  name: NAME,
  env,
  service: 'agent',
  handlers: async (kit) => {
    let baseURL = kit.config.model.baseURL;
    if (!baseURL) {
      const dev = await startDevModelServer();
      kit.onShutdown('dev model server', () => dev.close(), Stage.infra);
      baseURL = dev.url;
      kit.log.warn({ modelUrl: baseURL }, '*** NO MODEL CONFIGURED: answers come from the scripted dev model server. Set MODEL_BASE_URL, MODEL_API_KEY and MODEL_NAME for a real model. ***');
    }
    const model = createModelClient({ baseURL, apiKey: kit.config.model.apiKey, model: kit.config.model.name, timeoutMs: kit.config.model.timeoutMs, maxRetries: kit.config.model.maxRetries, logLevel: 'off' });
    const pool = createPool(kit.base.databaseUrl, { applicationName: NAME, max: 20 });
    kit.onShutdown('postgres', () => pool.end(), Stage.infra);
    const service = await createAgentService({ bus: kit.bus, redisUrl: kit.base.redisUrl, prefix: kit.base.busPrefix, pool, model, config: kit.config, log: kit.log });
    kit.onShutdown('runs', () => service.close(), Stage.infra);
    return service.handlers;
  },
  worker: { concurrency: preflight?.runs.concurrency ?? 64 },
});
