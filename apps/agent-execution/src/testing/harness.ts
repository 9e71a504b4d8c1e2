/** Test-only: the agent service in-process on the real bus, Redis, a test database and the dev model server over HTTP. */
import { onTestFinished } from 'vitest';
import { pino } from 'pino';
import { createBus, type ActionMeta, type Bus } from '@parley/bus';
import { catalog, type AgentRun, type Catalog, type RunEvent, type RunResult } from '@parley/contracts';
import { createModelClient } from '@parley/llm';
import { startDevModelServer, type DevModelServer } from '@parley/llm/dev-server';
import { redisUrl, type TestDatabase } from '@parley/testing';
import { env, type AgentExecutionConfig } from '../env.js';
import { createAgentService } from '../wiring.js';

export function testConfig(vars: Record<string, string> = {}): AgentExecutionConfig {
  const parsed = env.parse('agent-execution', { MODEL_BASE_URL: 'http://127.0.0.1:1/v1', ...vars });
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.config;
}

export interface Harness {
  caller: Bus<Catalog>;
  model: DevModelServer;
  /** Sends agent.run and collects its streamed events. */
  run(data: AgentRun, meta?: Partial<ActionMeta>): Promise<{ result: RunResult; events: RunEvent[] }>;
  start(
    data: AgentRun,
    meta?: Partial<ActionMeta>,
    onEvent?: (e: RunEvent) => void,
  ): { done: Promise<{ result: RunResult; events: RunEvent[] }>; events: RunEvent[] };
  /** Closes every replica's service (what main's shutdown does after the worker stopped), leaving its bus running. */
  closeServices(): Promise<void>;
}

export async function startHarness(opts: {
  prefix: string;
  db: TestDatabase;
  replicas?: number;
  tenantId: string;
  vars?: Record<string, string>;
  modelRetries?: number;
}): Promise<Harness> {
  const model = await startDevModelServer({ tokenDelayMs: 0 });
  onTestFinished(() => model.close());
  const log = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
  const config = testConfig(opts.vars);
  const services: Array<{ close(): Promise<void> }> = [];
  for (let i = 0; i < (opts.replicas ?? 1); i++) {
    const bus = createBus({ catalog, redis: redisUrl, prefix: opts.prefix, service: 'agent', instance: `agent-${i}-${opts.prefix}`, logger: log });
    const client = createModelClient({
      baseURL: model.url,
      apiKey: 'test',
      model: 'parley-dev',
      timeoutMs: 10_000,
      maxRetries: opts.modelRetries ?? 2,
      logLevel: 'off',
    });
    const service = await createAgentService({ bus, redis: redisUrl, prefix: opts.prefix, pool: opts.db.pool, model: client, config, log });
    services.push(service);
    bus.handle('agent', service.handlers, { graceMs: 1_000 });
    onTestFinished(async () => {
      await bus.close(1_000);
      await service.close();
    });
  }
  const caller = createBus({ catalog, redis: redisUrl, prefix: opts.prefix, service: 'test', logger: log });
  onTestFinished(() => caller.close(500));
  const start: Harness['start'] = (data, meta = {}, onEvent) => {
    const events: RunEvent[] = [];
    const done = caller
      .call('agent.run', data, { tenantId: opts.tenantId, ...meta }, { timeoutMs: 30_000, onEvent: (e) => (events.push(e), onEvent?.(e)) })
      .then((result) => ({ result, events }));
    return { done, events };
  };
  const closeServices = async () => {
    await Promise.all(services.map((s) => s.close()));
  };
  return { caller, model, start, run: (data, meta) => start(data, meta).done, closeServices };
}

export const tokensOf = (events: readonly RunEvent[]) => events.flatMap((e) => (e.type === 'run.token' ? [e.delta] : [])).join('');
export const seqsOf = (events: readonly RunEvent[]) => events.map((e) => e.seq);
