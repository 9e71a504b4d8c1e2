import { defineEnv, envInt, retiredEnv, type EnvDefinition } from '@parley/service-kit';
import { z } from 'zod';

/** The conversation service's variables, on top of service-kit's base (REDIS_URL, DATABASE_URL, BUS_PREFIX…). */
export const env = defineEnv(
  {
    CONVERSATION_IDLE_MS: envInt(30 * 60_000),
    CONVERSATION_HOT_TTL_MS: envInt(7 * 24 * 60 * 60_000),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    ...retiredEnv({
      CONVERSATION_DEFAULT_PROMPT: "the system prompt is the agent's own (agent-execution's agents table, PUT /api/v1/agents/:id)",
      CONVERSATION_PROMPT_CACHE_MS: 'the conversation service reads no prompts any more',
    }),
  },
  (e) => ({
    hot: { idleMs: e.CONVERSATION_IDLE_MS, ttlMs: e.CONVERSATION_HOT_TTL_MS },
    db: { poolMax: e.DB_POOL_MAX },
  }),
);

export type ConversationConfig = typeof env extends EnvDefinition<infer C> ? C : never;
