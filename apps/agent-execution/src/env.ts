/**
 * Configuration of agent-execution: the only file that reads `process.env` (through service-kit).
 */
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  defineEnv,
  envInt,
  modeOf,
  modelConfigOf,
  modelEnvShape,
  modelProblems,
  outboundEnvShape,
  outboundPolicyOf,
  secretKeyEnv,
  type ModelEnvConfig,
  type OutboundPolicy,
} from '@parley/service-kit';

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
    /** How long a run paused for an approval waits for a decision before it fails (approval_timeout). */
    approvalTimeoutMs: number;
    /** How often this replica looks for paused runs past their timeout. */
    approvalSweepMs: number;
  };
  tools: {
    /** Opens the header values of agents' MCP servers and HTTP tools: the gateway's SECRETS_KEY (and previous key while rotating). */
    secretsKey: KeyObject | undefined;
    secretsPreviousKey: KeyObject | undefined;
    /** What MCP servers and HTTP tools may be called (the same guard as webhooks). */
    outbound: OutboundPolicy;
    /** How long an MCP server's tool list is reused before it is listed again. */
    mcpListCacheMs: number;
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
    APPROVAL_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .default(24 * 3_600_000),
    APPROVAL_SWEEP_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    SECRETS_KEY: secretKeyEnv().optional(),
    SECRETS_KEY_PREVIOUS: secretKeyEnv().optional(),
    MCP_LIST_CACHE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    ...outboundEnvShape,
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
      approvalTimeoutMs: e.APPROVAL_TIMEOUT_MS,
      approvalSweepMs: e.APPROVAL_SWEEP_MS,
    },
    tools: {
      secretsKey: e.SECRETS_KEY,
      secretsPreviousKey: e.SECRETS_KEY_PREVIOUS,
      outbound: outboundPolicyOf(e),
      mcpListCacheMs: e.MCP_LIST_CACHE_MS,
    },
    production: modeOf(e) === 'production',
  }),
  // Production never answers from the scripted dev model: a missing model is a config problem, listed with the rest.
  (c) => [
    ...modelProblems(c.model, c.production),
    ...(c.tools.secretsPreviousKey && !c.tools.secretsKey
      ? ['SECRETS_KEY_PREVIOUS: only decrypts during a rotation; set SECRETS_KEY to the new key as well']
      : []),
  ],
);
