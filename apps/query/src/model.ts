/**
 * The model client of the service: the configured OpenAI-compatible server, or — in dev mode only,
 * when none is configured — the scripted dev model started in this process, announced loudly.
 */
import { createModelClient, startDevModelServer, type ModelClient } from '@parley/llm';
import type { Logger } from 'pino';
import type { QueryConfig } from './env.js';

export async function createQueryModel(config: QueryConfig, log: Logger): Promise<{ model: ModelClient; close(): Promise<void> }> {
  const m = config.model;
  let baseURL = m.baseURL;
  let close = async () => {};
  if (baseURL === null) {
    // queryModelProblems() already refused this in production.
    const dev = await startDevModelServer({ port: 0 });
    baseURL = dev.url;
    close = () => dev.close();
    log.warn({ url: dev.url }, 'NO MODEL CONFIGURED: using the scripted dev model (hashed-word embeddings, echo answers); set MODEL_BASE_URL for real ones');
  }
  const model = createModelClient({
    baseURL,
    apiKey: m.apiKey,
    model: m.name,
    embeddingModel: m.embeddingModel,
    embedBatchSize: m.embedBatchSize,
    timeoutMs: m.timeoutMs,
    maxRetries: m.maxRetries,
  });
  return { model, close };
}
