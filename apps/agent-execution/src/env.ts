/**
 * Configuration of agent-execution: the only file that reads `process.env` (through service-kit).
 */
import { z } from 'zod';
import { defineEnv, envInt, modeOf, modelConfigOf, modelEnvShape, modelProblems, type ModelEnvConfig } from '@parley/service-kit';

export interface AgentExecutionConfig {
  model: ModelEnvConfig;
  runs: {
    /** Max run time of a tenant's first (default) agent; each agent stores its own. */
    defaultMaxRunMs: number;
    /** Token budget asked of conversation.begin_turn / get_context. */
    contextMaxTokens: number;
    toolTimeoutMs: number;
    concurrency: number;
    /** A conversation lock not renewed for this long belongs to a dead worker. */
    lockTtlMs: number;
    /** Longest an `enqueue`d run waits for the conversation's active run. */
    queueWaitMs: number;
    /** How long a run's database reads and writes retry through a PostgreSQL outage before the handler gives up (crashes). */
    dbRetryMs: number;
    /** After a run's first token, tokens are sent at most once per this many ms (0: every model token). */
    tokenWindowMs: number;
  };
  production: boolean;
}

export const env = defineEnv(
  {
    ...modelEnvShape,
    RUN_MAX_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
    CONTEXT_MAX_TOKENS: z.coerce.number().int().min(256).default(8_000),
    TOOL_TIMEOUT_MS: envInt(10_000),
    RUN_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
    CONVERSATION_LOCK_TTL_MS: z.coerce.number().int().min(1_000).default(30_000),
    RUN_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(300_000),
    RUN_DB_RETRY_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
    RUN_TOKEN_WINDOW_MS: z.coerce.number().int().min(0).max(1_000).default(25),
  },
  (e): AgentExecutionConfig => ({
    model: modelConfigOf(e),
    runs: {
      defaultMaxRunMs: e.RUN_MAX_MS,
      contextMaxTokens: e.CONTEXT_MAX_TOKENS,
      toolTimeoutMs: e.TOOL_TIMEOUT_MS,
      concurrency: e.RUN_CONCURRENCY,
      lockTtlMs: e.CONVERSATION_LOCK_TTL_MS,
      queueWaitMs: e.RUN_QUEUE_WAIT_MS,
      dbRetryMs: e.RUN_DB_RETRY_MS,
      tokenWindowMs: e.RUN_TOKEN_WINDOW_MS,
    },
    production: modeOf(e) === 'production',
  }),
  // Production never answers from the scripted dev model: a missing model is a config problem, listed with the rest.
  (c) => modelProblems(c.model, c.production),
);
