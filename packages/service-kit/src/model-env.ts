import { z } from 'zod';
import { envInt, safeUrl } from './env.js';

/** An http(s) URL; the message shows what is expected without echoing the (possibly secret) value. */
export const envHttpUrl = (example: string) =>
  z.string().refine(
    (s) => {
      try {
        return ['http:', 'https:'].includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL like ${example}` },
  );

/** The OpenAI-compatible model every model-using service reads (agent-execution, query). */
export const modelEnvShape = {
  MODEL_BASE_URL: envHttpUrl('https://api.openai.com/v1 or http://127.0.0.1:11434/v1').optional(),
  MODEL_API_KEY: z.string().min(1).optional(),
  MODEL_NAME: z.string().min(1).max(128).optional(),
  MODEL_TIMEOUT_MS: envInt(60_000),
  MODEL_MAX_RETRIES: envInt(2),
};
type ModelEnv = z.output<z.ZodObject<typeof modelEnvShape>>;

export interface ModelEnvConfig {
  /** null: no model configured (dev mode starts the scripted dev model; production refuses to start). */
  baseURL: string | null;
  apiKey: string;
  name: string;
  timeoutMs: number;
  maxRetries: number;
  /** Whether MODEL_NAME / MODEL_API_KEY were given, rather than defaulted. */
  nameSet: boolean;
  apiKeySet: boolean;
}

export function modelConfigOf(e: ModelEnv): ModelEnvConfig {
  return {
    baseURL: e.MODEL_BASE_URL ?? null,
    // Local OpenAI-compatible servers (Ollama, vLLM) accept any non-empty key.
    apiKey: e.MODEL_API_KEY ?? 'not-needed',
    name: e.MODEL_NAME ?? 'parley-dev',
    timeoutMs: e.MODEL_TIMEOUT_MS,
    maxRetries: e.MODEL_MAX_RETRIES,
    nameSet: e.MODEL_NAME !== undefined,
    apiKeySet: e.MODEL_API_KEY !== undefined,
  };
}

/**
 * Production must never answer with the scripted dev model, so a missing model is a config problem
 * there (one line each, like the rest of the config), while dev mode falls back to the dev model.
 */
export function modelProblems(model: ModelEnvConfig, production: boolean): string[] {
  if (!production) return [];
  const problems: string[] = [];
  if (!model.baseURL) problems.push('MODEL_BASE_URL: is required in production mode (e.g. https://api.openai.com/v1)');
  if (!model.nameSet) problems.push('MODEL_NAME: is required in production mode (e.g. gpt-4o-mini)');
  if (!model.apiKeySet && model.baseURL && !/localhost|127\.0\.0\.1/.test(model.baseURL)) {
    problems.push(`MODEL_API_KEY: is required in production mode for ${safeUrl(model.baseURL)}`);
  }
  return problems;
}
