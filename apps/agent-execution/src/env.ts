/**
 * Configuration of agent-execution: the only file that reads `process.env` (through service-kit).
 */
import { z } from 'zod';
import { defineEnv, envInt, safeUrl } from '@parley/service-kit';

const modelUrl = z.string().refine(
  (s) => {
    try {
      return ['http:', 'https:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { message: 'expected a URL like https://api.openai.com/v1 or http://127.0.0.1:11434/v1' },
);

export interface AgentExecutionConfig {
  model: {
    /** null: no model configured (dev mode starts the scripted dev model; production refuses to start). */
    baseURL: string | null;
    apiKey: string;
    name: string;
    timeoutMs: number;
    maxRetries: number;
  };
  runs: {
    /** Max run time of a tenant's first (default) agent; each agent stores its own. */
    defaultMaxRunMs: number;
    /** Token budget asked of conversation.get_context. */
    contextMaxTokens: number;
    toolTimeoutMs: number;
    concurrency: number;
    /** A conversation lock not renewed for this long belongs to a dead worker. */
    lockTtlMs: number;
    /** Longest an `enqueue`d run waits for the conversation's active run. */
    queueWaitMs: number;
  };
  production: boolean;
}

export const env = defineEnv(
  {
    MODEL_BASE_URL: modelUrl.optional(),
    MODEL_API_KEY: z.string().min(1).optional(),
    MODEL_NAME: z.string().min(1).max(128).optional(),
    MODEL_TIMEOUT_MS: envInt(60_000),
    MODEL_MAX_RETRIES: envInt(2),
    RUN_MAX_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(120_000),
    CONTEXT_MAX_TOKENS: z.coerce.number().int().min(256).default(8_000),
    TOOL_TIMEOUT_MS: envInt(10_000),
    RUN_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
    CONVERSATION_LOCK_TTL_MS: z.coerce.number().int().min(1_000).default(30_000),
    RUN_QUEUE_WAIT_MS: z.coerce.number().int().min(0).default(300_000),
  },
  (e): AgentExecutionConfig => ({
    model: {
      baseURL: e.MODEL_BASE_URL ?? null,
      // Local OpenAI-compatible servers (Ollama, vLLM) accept any non-empty key.
      apiKey: e.MODEL_API_KEY ?? 'not-needed',
      name: e.MODEL_NAME ?? 'parley-dev',
      timeoutMs: e.MODEL_TIMEOUT_MS,
      maxRetries: e.MODEL_MAX_RETRIES,
    },
    runs: {
      defaultMaxRunMs: e.RUN_MAX_MS,
      contextMaxTokens: e.CONTEXT_MAX_TOKENS,
      toolTimeoutMs: e.TOOL_TIMEOUT_MS,
      concurrency: e.RUN_CONCURRENCY,
      lockTtlMs: e.CONVERSATION_LOCK_TTL_MS,
      queueWaitMs: e.RUN_QUEUE_WAIT_MS,
    },
    production: (e.PARLEY_MODE ?? (e.NODE_ENV === 'production' ? 'production' : 'dev')) === 'production',
  }),
);

/**
 * Production must never answer with the scripted dev model, so a missing model is a config error
 * there (every problem on its own line, like the rest of the config), while dev mode falls back to it.
 */
export function modelProblems(config: AgentExecutionConfig, source: Record<string, string | undefined>): string[] {
  if (!config.production) return [];
  const problems: string[] = [];
  if (!config.model.baseURL) problems.push('MODEL_BASE_URL: is required in production mode (e.g. https://api.openai.com/v1)');
  if (!source['MODEL_NAME']?.trim()) problems.push('MODEL_NAME: is required in production mode (e.g. gpt-4o-mini)');
  if (!source['MODEL_API_KEY']?.trim() && config.model.baseURL && !/localhost|127\.0\.0\.1/.test(config.model.baseURL)) {
    problems.push(`MODEL_API_KEY: is required in production mode for ${safeUrl(config.model.baseURL)}`);
  }
  return problems;
}

/** Exits 1 with every model problem listed when production mode has no model. Called by main before anything connects. */
export function assertModelConfigured(name: string): AgentExecutionConfig | null {
  const parsed = env.parse(name);
  if (!parsed.ok) return null; // runService lists these itself
  const problems = modelProblems(parsed.config, process.env);
  if (problems.length === 0) return parsed.config;
  process.stderr.write(`${name}: invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n`);
  for (const p of problems) process.stderr.write(`  ${p}\n`);
  process.exit(1);
}
