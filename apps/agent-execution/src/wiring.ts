import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Logger } from 'pino';
import { openRedis, type Bus, type RedisTarget } from '@parley/bus';
import type { Catalog } from '@parley/contracts';
import { createDb, openDatabase, type Pool } from '@parley/db';
import { createModelClient, createModelMetrics, type ModelClient } from '@parley/llm';
import { OutboundGuard, SecretBox, Stage, tracedStore, type ServiceKit } from '@parley/service-kit';
import type { Registry } from 'prom-client';
import type { AgentExecutionConfig } from './env.js';
import { builtinFlows, createFlowRegistry, type FlowDefinition } from './domain/flows/index.js';
import { RunEndObservers } from './domain/replies/run-end-observers.js';
import { CancelHub } from './domain/runs/cancel-hub.js';
import { ConversationLock } from './domain/runs/conversation-lock.js';
import { ConversationPort } from './domain/runs/conversation-port.js';
import { ApprovalDecisions } from './domain/runs/approval-decisions.js';
import { ApprovalTimeouts } from './domain/runs/approval-timeouts.js';
import { RunLifecycle } from './domain/runs/run-lifecycle.js';
import { runMetrics } from './domain/runs/run-metrics.js';
import { builtinTools, DEFAULT_AGENT_TOOLS } from './domain/tools/builtin.js';
import type { ToolDef } from './domain/tools/define-tool.js';
import { ExternalTools } from './domain/tools/external-tools.js';
import { McpConnector } from './domain/tools/mcp-client.js';
import type { ToolConfigDeps } from './domain/tools/tool-config.js';
import { ToolSecrets } from './domain/tools/tool-secrets.js';
import { agentHandlers } from './handlers/index.js';
import { AgentStore } from './stores/agent-store.js';
import { RunPauses } from './stores/run-pauses.js';
import { RunStore } from './stores/run-store.js';

export const SERVICE_NAME = 'agent-execution';

export interface AgentServiceDeps {
  bus: Bus<Catalog>;
  redis: RedisTarget;
  prefix: string;
  pool: Pool;
  model: ModelClient;
  config: AgentExecutionConfig;
  log: Logger;
  flows?: readonly FlowDefinition[];
  tools?: readonly ToolDef[];
  /** The process registry: runs ended are counted there (parley_agent_runs_total). */
  registry?: Registry;
}

/** Builds the handlers of the `agent` service and what they need; main.ts (through startAgentService) and tests share it. */
export async function createAgentService(d: AgentServiceDeps) {
  // No auto-pipelining: it holds each command for a tick and behind any batch still in flight, and the
  // run's lock and early-cancel lookup gate its first token (docs/adr/0001). Run event logs leave with
  // their events, through the bus (RunEvents.write, ctx.emitLogged).
  const redis = openRedis(d.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null, connectionName: 'agent-execution:runs' });
  const subscriber = openRedis(d.redis, { maxRetriesPerRequest: null, connectionName: 'agent-execution:cancel' });
  // ioredis reconnects by itself; a command issued meanwhile fails and its caller handles that.
  redis.on('error', () => {});
  subscriber.on('error', () => {});
  const db = createDb(d.pool);
  const tools = d.tools ?? builtinTools;
  const { secretsKey, secretsPreviousKey } = d.config.tools;
  const guard = new OutboundGuard(d.config.tools.outbound);
  const toolConfig: ToolConfigDeps = {
    guard,
    connector: new McpConnector(guard, d.config.tools.mcpListCacheMs),
    secrets: new ToolSecrets(secretsKey ? new SecretBox(secretsKey, secretsPreviousKey) : null),
    builtinNames: tools.map((t) => t.name),
  };
  if (!secretsKey) d.log.info('SECRETS_KEY is not set: agents cannot be given MCP servers or HTTP tools with headers');
  // Graph checkpoints of runs that can pause for an approval, in the `langgraph` schema (its tables come with
  // migration 0010, so no replica runs setup() at start). The service's pool: a checkpoint write is one of a run's writes.
  const checkpoints = new PostgresSaver(d.pool, undefined, { schema: 'langgraph' });
  const flows = createFlowRegistry(d.flows ?? builtinFlows, checkpoints);
  const agents = new AgentStore(db, { model: d.config.model.name, maxRunMs: d.config.runs.defaultMaxRunMs, tools: DEFAULT_AGENT_TOOLS });
  // A run's database work rides out an outage until the service closes: by then its worker has stopped
  // (handlers still running are abandoned past the grace period) and the pool is about to end, and
  // "cannot use a pool after calling end" is an outage to the classifier, so without this stop an
  // abandoned run would retry it for RUN_DB_RETRY_MS.
  const closing = new AbortController();
  const dbRetry = {
    budgetMs: d.config.runs.dbRetryMs,
    signal: closing.signal,
    onRetry: (err: unknown, attempt: number) =>
      d.log.warn({ err: err instanceof Error ? err.message : String(err), attempt }, 'postgres unavailable; retrying the run record write'),
  };
  const runs = tracedStore(new RunStore(db, dbRetry), { system: 'postgresql', name: 'agent_runs' });
  const pauses = new RunPauses(db, dbRetry);
  const timeouts = new ApprovalTimeouts(pauses, d.bus, d.config.runs.approvalSweepMs, d.log);
  timeouts.start();
  const cancels = new CancelHub(redis, subscriber, d.prefix, d.log);
  await cancels.start();
  const lifecycle = new RunLifecycle({
    bus: d.bus,
    redis,
    prefix: d.prefix,
    agents,
    runs,
    flows,
    tools,
    external: new ExternalTools(toolConfig),
    model: d.model,
    cancels,
    lock: tracedStore(new ConversationLock(redis, d.prefix, d.config.runs.lockTtlMs), { system: 'redis', name: 'conversation_lock' }),
    conversation: new ConversationPort(d.bus),
    observers: RunEndObservers.forChannels(d.bus, d.registry ? [runMetrics(d.registry, flows)] : []),
    config: d.config.runs,
    dbRetry,
    pauses,
    checkpoints,
  });
  let closed: Promise<void> | undefined;
  return {
    handlers: agentHandlers({
      bus: d.bus,
      lifecycle,
      runs,
      agents,
      flows,
      tools,
      toolConfig,
      cancels,
      pauses,
      decisions: new ApprovalDecisions(pauses, agents, tools, d.bus),
    }),
    /** Stops database retries, then closes the cancel hub and the command connection; later calls return the same promise. */
    close(): Promise<void> {
      closed ??= (async () => {
        closing.abort();
        await timeouts.close();
        await cancels.close();
        guard.close();
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closed;
    },
  };
}

/**
 * The service as main.ts runs it: the database (checked and current), the model, the handlers. With
 * no model configured (dev mode only: env.ts refuses production without one) the scripted dev model
 * server is started in this process, announced loudly; the import is dynamic, so production never loads it.
 */
export async function startAgentService(kit: ServiceKit<AgentExecutionConfig>) {
  const database = await openDatabase(kit.base.databaseUrl, { applicationName: kit.base.instance, max: 20 });
  kit.onShutdown('postgres', () => database.close(), Stage.infra);
  kit.health.addCheck('postgres', () => database.readiness());
  let baseURL = kit.config.model.baseURL;
  if (!baseURL) {
    const { startDevModelServer } = await import('@parley/llm/dev-server');
    const dev = await startDevModelServer();
    kit.onShutdown('dev model server', () => dev.close(), Stage.infra);
    baseURL = dev.url;
    kit.log.warn(
      { modelUrl: baseURL },
      '*** NO MODEL CONFIGURED: answers come from the scripted dev model server. Set MODEL_BASE_URL, MODEL_API_KEY and MODEL_NAME for a real model. ***',
    );
  }
  const model = createModelClient({
    baseURL,
    apiKey: kit.config.model.apiKey,
    model: kit.config.model.name,
    timeoutMs: kit.config.model.timeoutMs,
    maxRetries: kit.config.model.maxRetries,
    logLevel: 'off',
    observer: createModelMetrics(kit.metrics.registry),
  });
  const service = await createAgentService({
    bus: kit.bus,
    redis: kit.base.redis,
    prefix: kit.base.busPrefix,
    pool: database.pool,
    model,
    config: kit.config,
    log: kit.log,
    registry: kit.metrics.registry,
  });
  kit.onShutdown('runs', () => service.close(), Stage.infra);
  return service.handlers;
}
